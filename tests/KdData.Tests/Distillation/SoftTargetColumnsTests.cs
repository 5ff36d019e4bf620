using KdData.Distillation;
using KdData.Imaging;
using KdData.SoftTargets;

namespace KdData.Tests.Distillation;

public sealed class SoftTargetColumnsTests
{
    [Fact]
    public void Row_AfterAddBeyondCapacityWithMixedK_EqualsWhatWasAdded()
    {
        // Capacity 1 and k growing from 3 to 10: both the row and the top-k arrays must grow.
        var columns = new SoftTargetColumns(capacity: 1);
        var added = new List<PseudoLabel>();
        for (var i = 0; i < 7; i++)
        {
            var logits = Enumerable.Range(0, 10).Select(c => (float)Math.Sin(i * 10 + c) * 4).ToArray();
            var row = new PseudoLabel(
                i % 2, $"img{i}.png", $"\"e{i}\"", i % 3, new CropDecision(new CropBox(i, i + 1, 20 + i, 21 + i), i % 2 == 0),
                SoftTarget.FromLogits(logits, i < 3 ? 3 : 10), FromRejected: i == 4);
            Assert.Equal(i, columns.Add(row.Source, row.Key, row.ETag, row.View, row.Crop, row.Target, row.FromRejected));
            added.Add(row);
        }

        Assert.Equal(7, columns.Count);
        Assert.Equal(added, Enumerable.Range(0, 7).Select(columns.Row));
        Assert.Equal(added[5].Target.Confidence, columns.Confidence(5));
        Assert.True(columns.FromRejected(4));
        Assert.False(columns.FromRejected(3));
    }

    [Fact]
    public void MoveTo_SomeRowsInNewOrder_KeepsExactlyThoseAndEmptiesTheSource()
    {
        var columns = new SoftTargetColumns(capacity: 4);
        var rows = Enumerable.Range(0, 4).Select(i => new PseudoLabel(
            0, $"k{i}", "\"e\"", 0, new CropDecision(new CropBox(0, 0, 28, 28), false),
            SoftTarget.FromLogits([i, 1, 2, 3, 4], topK: 2 + (i % 2)), false)).ToList();
        foreach (var row in rows)
        {
            columns.Add(row.Source, row.Key, row.ETag, row.View, row.Crop, row.Target, row.FromRejected);
        }

        var moved = columns.MoveTo([3, 0, 2]);

        Assert.Equal([rows[3], rows[0], rows[2]], Enumerable.Range(0, moved.Count).Select(moved.Row));
        Assert.Equal(0, columns.Count);
        Assert.Throws<ArgumentOutOfRangeException>(() => columns.Row(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => moved.Row(3));
    }

    [Fact]
    public void MoveTo_NoRows_GivesAnEmptyStoreThatAcceptsRows()
    {
        var columns = new SoftTargetColumns(capacity: 2);
        var crop = new CropDecision(new CropBox(0, 0, 1, 1), false);
        columns.Add(0, "a", "e", 0, crop, SoftTarget.FromLogits([1, 2, 3], 2), false);

        var moved = columns.MoveTo([]);
        moved.Add(0, "b", "e", 0, crop, SoftTarget.FromLogits([3, 2, 1], 3), false);

        Assert.Equal(1, moved.Count);
        Assert.Equal("b", moved.Key(0));
        Assert.Equal([0, 1, 2], moved.Target(0).TopKClasses);
    }

    [Fact]
    public void Compare_SourceThenOrdinalKeyThenView_OrdersRows()
    {
        var columns = new SoftTargetColumns(capacity: 4);
        var target = SoftTarget.FromLogits([1, 2], 2);
        var crop = new CropDecision(new CropBox(0, 0, 1, 1), false);
        columns.Add(1, "a", "e", 0, crop, target, false);
        columns.Add(0, "b", "e", 1, crop, target, false);
        columns.Add(0, "b", "e", 0, crop, target, false);
        columns.Add(0, "B", "e", 5, crop, target, false);

        var order = Enumerable.Range(0, 4).ToList();
        order.Sort(columns.Compare);

        Assert.Equal([3, 2, 1, 0], order);
    }
}
