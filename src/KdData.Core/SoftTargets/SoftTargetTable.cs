using KdData.Imaging;
using Parquet.Schema;

namespace KdData.SoftTargets;

/// <summary>Parquet layout of <see cref="SoftTargetRow"/>: one row per image view, snake_case columns.</summary>
internal sealed class SoftTargetTable : IShardTable<SoftTargetRow>
{
    private static readonly DataField Key = new DataField<string>("key", nullable: false);
    private static readonly DataField ETag = new DataField<string>("etag", nullable: false);
    private static readonly DataField Size = new DataField<long>("size");
    private static readonly DataField View = new DataField<int>("view");
    private static readonly DataField CropX = new DataField<int>("crop_x");
    private static readonly DataField CropY = new DataField<int>("crop_y");
    private static readonly DataField CropWidth = new DataField<int>("crop_width");
    private static readonly DataField CropHeight = new DataField<int>("crop_height");
    private static readonly DataField Flip = new DataField<bool>("flip");
    private static readonly DataField Predicted = new DataField<int>("predicted");
    private static readonly DataField Confidence = new DataField<float>("confidence");
    private static readonly DataField Entropy = new DataField<float>("entropy");
    private static readonly ListField TopKClasses = new("topk_classes", new DataField<int>("element"));
    private static readonly ListField TopKLogits = new("topk_logits", new DataField<float>("element"));
    private static readonly DataField LogSumExp = new DataField<float>("logsumexp");

    // Added with packed inputs; shards written before it have no such column and read as "no label".
    private static readonly DataField Label = new DataField<int?>("label");

    // Declared after the fields: static initializers run in textual order and the constructor uses them.
    public static readonly SoftTargetTable Instance = new();

    private SoftTargetTable()
    {
    }

    public string Name => "soft-target";

    public ParquetSchema Schema { get; } = new(
        Key, ETag, Size, View, CropX, CropY, CropWidth, CropHeight, Flip,
        Predicted, Confidence, Entropy, TopKClasses, TopKLogits, LogSumExp, Label);

    public IReadOnlySet<string> OptionalColumns { get; } = new HashSet<string>(StringComparer.Ordinal) { "label" };

    public void Validate(SoftTargetRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        if (string.IsNullOrEmpty(row.Key) || row.ETag is null || row.Target is null)
        {
            throw new ArgumentException($"Soft-target row '{row.Key}' view {row.View} needs a non-empty key, an etag and a target.", nameof(row));
        }

        if (row.Size < 0 || row.View < 0)
        {
            throw new ArgumentException($"Soft-target row '{row.Key}' has a negative size ({row.Size}) or view ({row.View}).", nameof(row));
        }

        var box = row.Crop.Box;
        if (box.X < 0 || box.Y < 0 || box.Width <= 0 || box.Height <= 0)
        {
            throw new ArgumentException($"Soft-target row '{row.Key}' view {row.View} has an invalid crop {box}.", nameof(row));
        }
    }

    public async Task WriteColumnsAsync(ShardColumnWriter<SoftTargetRow> columns, CancellationToken cancellationToken)
    {
        await columns.WriteStringsAsync(Key, r => r.Key, cancellationToken).ConfigureAwait(false);
        await columns.WriteStringsAsync(ETag, r => r.ETag, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(Size, r => r.Size, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(View, r => r.View, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(CropX, r => r.Crop.Box.X, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(CropY, r => r.Crop.Box.Y, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(CropWidth, r => r.Crop.Box.Width, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(CropHeight, r => r.Crop.Box.Height, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(Flip, r => r.Crop.FlipHorizontal, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(Predicted, r => r.Target.Predicted, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(Confidence, r => r.Target.Confidence, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(Entropy, r => r.Target.Entropy, cancellationToken).ConfigureAwait(false);
        await columns.WriteListAsync(TopKClasses, r => r.Target.TopKClasses, cancellationToken).ConfigureAwait(false);
        await columns.WriteListAsync(TopKLogits, r => r.Target.TopKLogits, cancellationToken).ConfigureAwait(false);
        await columns.WriteAsync(LogSumExp, r => r.Target.LogSumExp, cancellationToken).ConfigureAwait(false);
        await columns.WriteNullableAsync(Label, r => r.Label, cancellationToken).ConfigureAwait(false);
    }

    public async Task<SoftTargetRow[]> ReadColumnsAsync(ShardColumnReader columns, CancellationToken cancellationToken)
    {
        var keys = await columns.ReadStringsAsync(Key, cancellationToken).ConfigureAwait(false);
        var etags = await columns.ReadStringsAsync(ETag, cancellationToken).ConfigureAwait(false);
        var sizes = await columns.ReadAsync<long>(Size, cancellationToken).ConfigureAwait(false);
        var views = await columns.ReadAsync<int>(View, cancellationToken).ConfigureAwait(false);
        var xs = await columns.ReadAsync<int>(CropX, cancellationToken).ConfigureAwait(false);
        var ys = await columns.ReadAsync<int>(CropY, cancellationToken).ConfigureAwait(false);
        var widths = await columns.ReadAsync<int>(CropWidth, cancellationToken).ConfigureAwait(false);
        var heights = await columns.ReadAsync<int>(CropHeight, cancellationToken).ConfigureAwait(false);
        var flips = await columns.ReadAsync<bool>(Flip, cancellationToken).ConfigureAwait(false);
        var predicted = await columns.ReadAsync<int>(Predicted, cancellationToken).ConfigureAwait(false);
        var confidences = await columns.ReadAsync<float>(Confidence, cancellationToken).ConfigureAwait(false);
        var entropies = await columns.ReadAsync<float>(Entropy, cancellationToken).ConfigureAwait(false);
        var classes = await columns.ReadListsAsync<int>(TopKClasses, cancellationToken).ConfigureAwait(false);
        var logits = await columns.ReadListsAsync<float>(TopKLogits, cancellationToken).ConfigureAwait(false);
        var logSumExps = await columns.ReadAsync<float>(LogSumExp, cancellationToken).ConfigureAwait(false);
        var labels = columns.Has(Label) ? await columns.ReadNullableAsync<int>(Label, cancellationToken).ConfigureAwait(false) : null;

        var rows = new SoftTargetRow[columns.RowCount];
        for (var i = 0; i < rows.Length; i++)
        {
            SoftTarget target;
            try
            {
                target = new SoftTarget(predicted[i], confidences[i], entropies[i], classes[i], logits[i], logSumExps[i]);
            }
            catch (ArgumentException ex)
            {
                throw new InvalidDataException($"Soft-target row '{keys[i]}' view {views[i]} is invalid: {ex.Message}", ex);
            }

            rows[i] = new SoftTargetRow(
                keys[i], etags[i], sizes[i], views[i],
                new CropDecision(new CropBox(xs[i], ys[i], widths[i], heights[i]), flips[i]),
                target,
                labels?[i]);
        }

        return rows;
    }
}
