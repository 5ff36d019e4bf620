using System.IO.Compression;

namespace KdData.Tests.Datasets;

/// <summary>
/// Writes a small, learnable IDX dataset in the MNIST file layout: class c (0..3) lights up
/// quadrant c of a 28x28 image, with seeded noise, so a model can learn it in a few epochs.
/// </summary>
internal static class SyntheticIdx
{
    public const int Size = 28;

    public static byte[] Image(int label, int index)
    {
        var random = new Random((label * 7919) + index);
        var pixels = new byte[Size * Size];
        for (var y = 0; y < Size; y++)
        {
            for (var x = 0; x < Size; x++)
            {
                var quadrant = (y >= Size / 2 ? 2 : 0) + (x >= Size / 2 ? 1 : 0);
                var baseValue = quadrant == label ? 200 : 30;
                pixels[(y * Size) + x] = (byte)Math.Clamp(baseValue + random.Next(-30, 31), 0, 255);
            }
        }

        return pixels;
    }

    /// <summary>Writes train/t10k image and label files (.gz) into <paramref name="directory"/>; returns the labels.</summary>
    public static (byte[] Train, byte[] Test) Write(string directory, int trainCount, int testCount, int classes = 4)
    {
        var train = Enumerable.Range(0, trainCount).Select(i => (byte)(i % classes)).ToArray();
        var test = Enumerable.Range(0, testCount).Select(i => (byte)((i * 3) % classes)).ToArray();
        WriteSet(directory, "train", train, offset: 0);
        WriteSet(directory, "t10k", test, offset: 100_000);
        return (train, test);
    }

    private static void WriteSet(string directory, string prefix, byte[] labels, int offset)
    {
        var pixels = labels.SelectMany((label, i) => Image(label, offset + i)).ToArray();
        WriteGz(Path.Combine(directory, $"{prefix}-images-idx3-ubyte.gz"), IdxReaderTests.MakeIdx([labels.Length, Size, Size], pixels));
        WriteGz(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte.gz"), IdxReaderTests.MakeIdx([labels.Length], labels));
    }

    private static void WriteGz(string path, byte[] bytes)
    {
        using var file = File.Create(path);
        using var gz = new GZipStream(file, CompressionLevel.Fastest);
        gz.Write(bytes);
    }
}
