using System.Runtime.CompilerServices;
using KdData.Distillation;
using KdData.Imaging;
using KdData.SoftTargets;
using KdData.Tests.Fixtures;
using Xunit.Abstractions;

namespace KdData.Tests.Distillation;

/// <summary>
/// The distill data path keeps every selected row in memory; this bounds what one row costs. The object form of a row
/// (a <see cref="SoftTarget"/> and its arrays, the row's own key and ETag strings) held ~360 bytes with one view per
/// image and ~530 with four; the column store holds ~145 bytes of primitives a row plus the key and ETag, once per image.
/// </summary>
[Collection(ManagedHeapTestGroup.Name)]
public sealed class PseudoLabelMemoryTests(ITestOutputHelper output)
{
    private const int Rows = 40_000;

    private static readonly string[] Classes = [.. Enumerable.Range(0, 10).Select(c => $"class{c}")];

    [Theory]
    [InlineData(1, 300)] // every row has its own key and ETag (~124 bytes of strings)
    [InlineData(4, 200)] // four views of an image share them
    public async Task ReadAsync_TenClassRows_RetainAtMostBoundBytesEach(int viewsPerImage, int bound)
    {
        using var set = new ShardSetFolder();
        var file = await set.WriteAsync("part-0000of0001-000000.parquet", ShardRows(viewsPerImage), set.Footer(classes: Classes));
        await set.CommitAsync(DateTimeOffset.UtcNow, accepted: file);
        var reader = new ShardSetReader(TestStores.Factory(), new ShardSelectionOptions { Locations = { set.Root } });

        // Measured as what is freed when the result is dropped, so buffers that Parquet.Net keeps pooled
        // per thread after reading (a fixed cost, bounded by the row-group size) do not count.
        var box = new StrongBox<PseudoLabelSet?>();
        await LoadIntoAsync(reader, box);
        // Continue on a fresh stack: the loader's completed frames could still hold the result.
        await Task.Yield();
        Assert.Equal(Rows, RowCount(box));
        var freed = FreedWhenDropped(box);
        var perRow = freed / (double)Rows;
        output.WriteLine($"{Rows} rows of 10 classes hold {freed} bytes: {perRow:F0} bytes per row");

        Assert.InRange(perRow, 100, bound);
    }

    private static async Task LoadIntoAsync(ShardSetReader reader, StrongBox<PseudoLabelSet?> box) =>
        box.Value = await reader.ReadAsync(Classes, preprocessing: null);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static int RowCount(StrongBox<PseudoLabelSet?> box) => box.Value!.Rows.Count;

    /// <summary>In a method of its own: debug code keeps every local of a method alive until it returns.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long FreedWhenDropped(StrongBox<PseudoLabelSet?> box)
    {
        var held = GC.GetTotalMemory(forceFullCollection: true);
        box.Value = null;
        return held - GC.GetTotalMemory(forceFullCollection: true);
    }

    private static IEnumerable<SoftTargetRow> ShardRows(int viewsPerImage)
    {
        var random = new Random(7);
        var logits = new float[Classes.Length];
        for (var i = 0; i < Rows; i++)
        {
            for (var c = 0; c < logits.Length; c++)
            {
                logits[c] = (float)(random.NextDouble() * 8);
            }

            // The parsed rows carry their own key and ETag strings, as rows read from a shard do.
            var image = i / viewsPerImage;
            yield return new SoftTargetRow(
                $"unlabeled/{image:D6}.png", $"\"0x8DC{image:X12}\"", 300, i % viewsPerImage, new CropDecision(new CropBox(0, 0, 28, 28), false), SoftTarget.FromLogits(logits, 10));
        }
    }
}
