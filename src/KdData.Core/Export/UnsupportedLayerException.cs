namespace KdData.Export;

/// <summary>The network contains a module the ONNX exporter has no translation for; names where and what it is.</summary>
public sealed class UnsupportedLayerException : Exception
{
    public UnsupportedLayerException()
    {
        ModulePath = string.Empty;
        ModuleType = string.Empty;
    }

    public UnsupportedLayerException(string message)
        : base(message)
    {
        ModulePath = string.Empty;
        ModuleType = string.Empty;
    }

    public UnsupportedLayerException(string message, Exception? innerException)
        : base(message, innerException)
    {
        ModulePath = string.Empty;
        ModuleType = string.Empty;
    }

    public UnsupportedLayerException(string modulePath, string moduleType, string reason)
        : base($"Cannot export module '{(modulePath.Length == 0 ? "<root>" : modulePath)}' of type {moduleType} to ONNX: {reason}.")
    {
        ModulePath = modulePath;
        ModuleType = moduleType;
    }

    /// <summary>The module's path in the network (empty for the root).</summary>
    public string ModulePath { get; }

    /// <summary>The module's .NET type name.</summary>
    public string ModuleType { get; }
}
