using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Imaging;

/// <summary>Stacks CHW float payloads from <see cref="ImagePreprocessor"/> into one TorchSharp tensor.</summary>
public static class ImageBatch
{
    /// <summary>
    /// Copies <paramref name="payloads"/> (each of length C x H x W, CHW order) into a new float32 CPU tensor
    /// of shape [N, C, H, W]. The caller owns (and must dispose) the returned tensor; nothing else is created.
    /// </summary>
    public static Tensor ToTensor(IReadOnlyList<float[]> payloads, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(payloads);
        ArgumentOutOfRangeException.ThrowIfLessThan(payloads.Count, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(channels, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(height, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(width, 1);
        var itemLength = checked(channels * height * width);
        var batch = new float[checked(payloads.Count * itemLength)];
        for (var i = 0; i < payloads.Count; i++)
        {
            var payload = payloads[i] ?? throw new ArgumentException($"Payload {i} is null.", nameof(payloads));
            if (payload.Length != itemLength)
            {
                throw new ArgumentException(
                    $"Payload {i} has {payload.Length} values, expected {channels}x{height}x{width} = {itemLength}.", nameof(payloads));
            }

            Array.Copy(payload, 0, batch, (long)i * itemLength, itemLength);
        }

        return torch.tensor(batch, [payloads.Count, channels, height, width], ScalarType.Float32);
    }
}
