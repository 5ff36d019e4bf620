using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// Reads and writes a module's weights (its state dict) as safetensors, with PyTorch parameter names, or in
/// TorchSharp's own format. Pickle (<c>.pt</c>/<c>.bin</c>) is deliberately not offered: unpickling
/// untrusted files is unsafe, and safetensors covers the PyTorch interchange.
/// </summary>
public static class ModelWeights
{
    /// <summary>The file extension (with dot) used for <paramref name="format"/>.</summary>
    public static string FileExtension(WeightsFormat format) => format switch
    {
        WeightsFormat.Safetensors => ".safetensors",
        WeightsFormat.TorchSharp => ".dat",
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weights format."),
    };

    /// <summary>Serializes the state dict of <paramref name="module"/> (parameters and buffers).</summary>
    public static byte[] Export(nn.Module module, WeightsFormat format = WeightsFormat.Safetensors)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var buffer = new MemoryStream();
        Write(module, buffer, format);
        return buffer.ToArray();
    }

    /// <summary>Writes the state dict of <paramref name="module"/> to <paramref name="stream"/>, leaving it open.</summary>
    public static void Write(nn.Module module, Stream stream, WeightsFormat format = WeightsFormat.Safetensors)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stream);
        switch (format)
        {
            case WeightsFormat.Safetensors:
                module.save_safetensors(stream, leaveOpen: true);
                break;
            case WeightsFormat.TorchSharp:
                // Module.save wraps the stream in a writer; keep the caller's stream usable afterwards.
                using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                {
                    module.save(writer);
                }
                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weights format.");
        }
    }

    /// <summary>
    /// Loads weights into <paramref name="module"/> (which must have the matching architecture) and leaves every
    /// parameter trainable (requires_grad = true, also for parameters frozen before the call).
    /// With <paramref name="strict"/> every state-dict entry must be present on both sides.
    /// </summary>
    /// <exception cref="InvalidDataException">The weights do not fit the module or cannot be decoded.</exception>
    public static void Import(nn.Module module, ReadOnlyMemory<byte> weights, WeightsFormat format = WeightsFormat.Safetensors, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        using var stream = new MemoryStream(weights.ToArray(), writable: false);
        Read(module, stream, format, strict);
    }

    /// <summary>As <see cref="Import"/>, reading from <paramref name="stream"/> (left open).</summary>
    /// <exception cref="InvalidDataException">The weights do not fit the module or cannot be decoded.</exception>
    public static void Read(nn.Module module, Stream stream, WeightsFormat format = WeightsFormat.Safetensors, bool strict = true)
    {
        ArgumentNullException.ThrowIfNull(module);
        ArgumentNullException.ThrowIfNull(stream);
        try
        {
            switch (format)
            {
                case WeightsFormat.Safetensors:
                    module.load_safetensors(stream, strict: strict, leaveOpen: true);
                    break;
                case WeightsFormat.TorchSharp:
                    using (var reader = new BinaryReader(stream, System.Text.Encoding.UTF8, leaveOpen: true))
                    {
                        module.load(reader, strict: strict);
                    }
                    break;
                default:
                    throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weights format.");
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException or KeyNotFoundException
                                       or FormatException or EndOfStreamException or System.Text.Json.JsonException
                                       or NotImplementedException)
        {
            throw new InvalidDataException(
                $"The {format} weights do not match module '{module.GetName()}' or are corrupt: {ex.Message}", ex);
        }

        // TorchSharp.PyBridge loads have been seen to leave parameters with requires_grad = false (not reproduced
        // with PyBridge 1.4.4 + TorchSharp 0.107, but cheap to guard against). A loaded model must be trainable
        // (fine-tuning a teacher, resuming a student), so every parameter is made trainable; freeze after loading.
        foreach (var parameter in module.parameters())
        {
            parameter.requires_grad = true;
        }
    }
}
