using KdData.Training;

namespace KdData.Tests.Training;

public sealed class InMemoryTrainingDataTests
{
    [Fact]
    public async Task ReadEpochAsync_Shuffled_EverySampleOnceInBatchesOfTheGivenSize()
    {
        // Sample i is filled with the value i, so the pixels say which sample a row came from.
        var data = Numbered(10, batchSize: 4, shuffleSeed: 3);

        var batches = await data.ReadEpochAsync(1).ToListAsync();

        Assert.Equal([4, 4, 2], batches.Select(b => b.Count));
        Assert.Equal(3, data.BatchesPerEpoch);
        var samples = batches.SelectMany(b => Enumerable.Range(0, b.Count).Select(i => (Pixel: b.Pixels[i * 4], Label: b.Labels[i]))).ToList();
        Assert.Equal(Enumerable.Range(0, 10).Select(i => (float)i), samples.Select(s => s.Pixel).Order());
        Assert.All(samples, s => Assert.Equal((long)s.Pixel % 3, s.Label));
    }

    [Fact]
    public void OrderOf_SameSeedAndEpoch_IsReproducibleAndDiffersBetweenEpochs()
    {
        var a = Numbered(50, batchSize: 8, shuffleSeed: 11);
        var b = Numbered(50, batchSize: 8, shuffleSeed: 11);

        Assert.Equal(a.OrderOf(2), b.OrderOf(2));
        Assert.NotEqual(a.OrderOf(1), a.OrderOf(2));
        Assert.NotEqual(Enumerable.Range(0, 50), a.OrderOf(1));
    }

    [Fact]
    public async Task ReadEpochAsync_NoShuffleSeed_KeepsStoredOrderInEveryEpoch()
    {
        var data = Numbered(6, batchSize: 4, shuffleSeed: null);

        var epoch1 = (await data.ReadEpochAsync(1).ToListAsync()).SelectMany(b => b.Labels);
        var epoch5 = (await data.ReadEpochAsync(5).ToListAsync()).SelectMany(b => b.Labels);

        Assert.Equal([0L, 1, 2, 0, 1, 2], epoch1);
        Assert.Equal(epoch1, epoch5);
    }

    [Fact]
    public void Constructor_PixelsNotMatchingShape_ThrowsNamingPixels()
    {
        var error = Assert.Throws<ArgumentException>(() => new InMemoryTrainingData(new float[7], new long[2], 1, 2, 2, 1));

        Assert.Equal("pixels", error.ParamName);
    }

    private static InMemoryTrainingData Numbered(int count, int batchSize, int? shuffleSeed)
    {
        var pixels = Enumerable.Range(0, count).SelectMany(i => Enumerable.Repeat((float)i, 4)).ToArray();
        var labels = Enumerable.Range(0, count).Select(i => (long)(i % 3)).ToArray();
        return new InMemoryTrainingData(pixels, labels, 1, 2, 2, batchSize, shuffleSeed);
    }
}
