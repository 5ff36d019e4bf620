using KdData.Training;

namespace KdData.Tests.Training;

/// <summary>
/// A tiny learnable image set: 1x8x8 images where class c (0-3) lights quadrant c (top-left, top-right,
/// bottom-left, bottom-right) on a dark background, plus Gaussian noise.
/// </summary>
internal static class QuadrantImages
{
    public const int Classes = 4;
    public const int Size = 8;

    public static (float[] Pixels, long[] Labels) Generate(int count, int seed, double noise = 0.3)
    {
        var random = new Random(seed);
        var pixels = new float[count * Size * Size];
        var labels = new long[count];
        for (var n = 0; n < count; n++)
        {
            var label = n % Classes;
            labels[n] = label;
            var rowStart = label / 2 * (Size / 2);
            var columnStart = label % 2 * (Size / 2);
            for (var y = 0; y < Size; y++)
            {
                for (var x = 0; x < Size; x++)
                {
                    var lit = y >= rowStart && y < rowStart + (Size / 2) && x >= columnStart && x < columnStart + (Size / 2);
                    pixels[(n * Size * Size) + (y * Size) + x] = (float)((lit ? 1.0 : 0.0) + (noise * Gaussian(random)));
                }
            }
        }
        return (pixels, labels);
    }

    public static InMemoryTrainingData Data(int count, int seed, int batchSize, int? shuffleSeed, double noise = 0.3)
    {
        var (pixels, labels) = Generate(count, seed, noise);
        return new InMemoryTrainingData(pixels, labels, 1, Size, Size, batchSize, shuffleSeed);
    }

    private static double Gaussian(Random random)
    {
        // Box-Muller; 1 - NextDouble() avoids log(0).
        var u1 = 1.0 - random.NextDouble();
        var u2 = random.NextDouble();
        return Math.Sqrt(-2.0 * Math.Log(u1)) * Math.Cos(2.0 * Math.PI * u2);
    }
}
