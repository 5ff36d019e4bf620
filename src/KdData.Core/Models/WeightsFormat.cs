namespace KdData.Models;

/// <summary>How a checkpoint's weights file is encoded.</summary>
public enum WeightsFormat
{
    /// <summary>safetensors with PyTorch state-dict names (file extension <c>.safetensors</c>); the default.</summary>
    Safetensors = 0,

    /// <summary>TorchSharp's own <c>Module.save</c> format (file extension <c>.dat</c>).</summary>
    TorchSharp = 1,
}
