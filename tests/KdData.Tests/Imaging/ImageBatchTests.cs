using KdData.Imaging;
using TorchSharp;

namespace KdData.Tests.Imaging;

public sealed class ImageBatchTests
{
    [Fact]
    public void ToTensor_TwoPayloads_HasNchwShapeAndValuesInOrder()
    {
        var first = Enumerable.Range(0, 3 * 2 * 4).Select(i => (float)i).ToArray();
        var second = Enumerable.Range(0, 3 * 2 * 4).Select(i => -(float)i).ToArray();

        using var tensor = ImageBatch.ToTensor([first, second], channels: 3, height: 2, width: 4);

        Assert.Equal([2L, 3, 2, 4], tensor.shape);
        Assert.Equal(torch.ScalarType.Float32, tensor.dtype);
        using var a = tensor[0, 2, 1, 3];
        using var b = tensor[1, 1, 0, 2];
        Assert.Equal(first[(2 * 8) + (1 * 4) + 3], a.item<float>());
        Assert.Equal(second[(1 * 8) + 2], b.item<float>());
    }

    [Fact]
    public void ToTensor_SourceArrayChangedAfterwards_TensorKeepsCopiedValues()
    {
        var payload = new float[] { 1, 2, 3, 4 };

        using var tensor = ImageBatch.ToTensor([payload], 1, 2, 2);
        payload[0] = 99;

        using var value = tensor[0, 0, 0, 0];
        Assert.Equal(1f, value.item<float>());
    }

    [Fact]
    public void ToTensor_WrongPayloadLength_ThrowsNamingIndex()
    {
        var ex = Assert.Throws<ArgumentException>(() => ImageBatch.ToTensor([new float[12], new float[11]], 3, 2, 2));

        Assert.Contains("Payload 1", ex.Message, StringComparison.Ordinal);
    }
}
