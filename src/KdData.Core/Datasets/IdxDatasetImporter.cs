using System.Globalization;
using System.Text.Json;
using KdData.PackedImages;
using KdData.Storage;
using SkiaSharp;

namespace KdData.Datasets;

/// <summary>
/// Imports an IDX dataset (MNIST / Fashion-MNIST) into any store as PNG images plus a labels
/// manifest, split semi-supervised: a seeded, stratified labeled fraction of train, the rest of
/// train as an unlabeled pool (images only; their true labels go to a separate file used only to
/// measure pseudo-label accuracy), and the test set unchanged. See <see cref="DatasetLayout"/>.
/// The PNGs are one object each (<see cref="DatasetFormat.Loose"/>) or packed into Parquet or WebDataset tar shards
/// (<see cref="IdxImportOptions.Format"/>), which cost one request per shard instead of one per image on blob storage.
/// Writes are create-only, so an interrupted import can simply be run again.
/// </summary>
public sealed class IdxDatasetImporter
{
    private static readonly JsonSerializerOptions IndentedJson = new() { WriteIndented = true };
    private readonly IObjectStore _destination;

    public IdxDatasetImporter(IObjectStore destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        _destination = destination;
    }

    /// <summary>Runs the import; reports the number of images written so far.</summary>
    public async Task<DatasetDescriptor> ImportAsync(IdxImportOptions options, IProgress<int>? progress = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        var trainImages = await IdxReader.ReadFileAsync(options.TrainImages, cancellationToken).ConfigureAwait(false);
        var trainLabels = await IdxReader.ReadFileAsync(options.TrainLabels, cancellationToken).ConfigureAwait(false);
        var testImages = await IdxReader.ReadFileAsync(options.TestImages, cancellationToken).ConfigureAwait(false);
        var testLabels = await IdxReader.ReadFileAsync(options.TestLabels, cancellationToken).ConfigureAwait(false);
        CheckPair(trainImages, trainLabels, options.TrainImages, options.TrainLabels);
        CheckPair(testImages, testLabels, options.TestImages, options.TestLabels);
        if (testImages.Dimensions[1] != trainImages.Dimensions[1] || testImages.Dimensions[2] != trainImages.Dimensions[2])
        {
            throw new IdxFormatException($"IDX files '{options.TrainImages}' and '{options.TestImages}' have different image sizes.");
        }

        var trainCount = Limit(trainImages.Count, options.TrainLimit);
        var testCount = Limit(testImages.Count, options.TestLimit);
        var trainLabelBytes = trainLabels.Data[..trainCount].ToArray();
        var maxLabel = Math.Max(Max(trainLabelBytes), Max(testLabels.Data.Span[..testCount]));
        var classes = options.Classes.Count > 0
            ? [.. options.Classes]
            : Enumerable.Range(0, maxLabel + 1).Select(i => i.ToString(CultureInfo.InvariantCulture)).ToList();
        if (maxLabel >= classes.Count)
        {
            throw new ArgumentException($"The IDX labels go up to {maxLabel} but only {classes.Count} class names were given.", nameof(options));
        }

        var labeled = StratifiedSplit.SelectLabeled(trainLabelBytes, options.LabeledFraction, options.Seed);
        var packed = options.Format != DatasetFormat.Loose;
        var descriptor = new DatasetDescriptor
        {
            Source = Path.GetFileName(Path.GetDirectoryName(Path.GetFullPath(options.TrainImages))) ?? string.Empty,
            LabeledFraction = options.LabeledFraction,
            Seed = options.Seed,
            TrainLimit = options.TrainLimit,
            TestLimit = options.TestLimit,
            Width = trainImages.Dimensions[2],
            Height = trainImages.Dimensions[1],
            Classes = classes,
            LabeledCount = labeled.Count(x => x),
            PoolCount = labeled.Count(x => !x),
            TestCount = testCount,
            Format = DatasetDescriptor.FormatName(options.Format),
            ShardSize = packed ? options.ShardSize : 0,
            RowGroupSize = options.Format == DatasetFormat.Parquet ? options.RowGroupSize : 0,
        };

        var existing = await TryReadDescriptorAsync(cancellationToken).ConfigureAwait(false);
        if (existing is not null)
        {
            if (existing.SameSettingsAs(descriptor))
            {
                return existing;
            }

            throw new InvalidOperationException(
                $"'{_destination.Location}' already holds a dataset imported with other settings (fraction {existing.LabeledFraction}, seed {existing.Seed}, limits {existing.TrainLimit}/{existing.TestLimit}, format {existing.Format}{(existing.ShardSize > 0 ? $", {existing.ShardSize} images per shard" : "")}); import into an empty location.");
        }

        var manifest = new List<LabelRecord>(descriptor.LabeledCount + testCount);
        var pool = new List<LabelRecord>(descriptor.PoolCount);
        var labeledItems = Enumerable.Range(0, trainCount).Where(i => labeled[i]).ToList();
        var poolItems = Enumerable.Range(0, trainCount).Where(i => !labeled[i]).ToList();
        var testItems = Enumerable.Range(0, testCount).ToList();
        var testLabelBytes = testLabels.Data[..testCount].ToArray();
        if (packed)
        {
            // Source order within each split, so a shard holds consecutive images and the manifest keeps today's row order.
            var written = await WriteShardsAsync(new PackedSplit(DatasetLayout.TrainPrefix, DatasetSplits.Train, trainImages, trainLabelBytes, labeledItems, WithLabels: true), manifest, options, 0, progress, cancellationToken).ConfigureAwait(false);
            // The pool's labels are withheld from its shards: they go to pool-labels.parquet only, as in the loose layout.
            written = await WriteShardsAsync(new PackedSplit(DatasetLayout.UnlabeledPrefix, DatasetSplits.Train, trainImages, trainLabelBytes, poolItems, WithLabels: false), pool, options, written, progress, cancellationToken).ConfigureAwait(false);
            await WriteShardsAsync(new PackedSplit(DatasetLayout.TestPrefix, DatasetSplits.Test, testImages, testLabelBytes, testItems, WithLabels: true), manifest, options, written, progress, cancellationToken).ConfigureAwait(false);
        }
        else
        {
            var work = new List<(string Key, IdxArray Images, int Index)>(trainCount + testCount);
            foreach (var i in labeledItems)
            {
                var key = KeyFor(DatasetLayout.TrainPrefix, i);
                manifest.Add(new LabelRecord { Key = key, Label = trainLabelBytes[i], Split = DatasetSplits.Train });
                work.Add((key, trainImages, i));
            }

            foreach (var i in poolItems)
            {
                var key = KeyFor(DatasetLayout.UnlabeledPrefix, i);
                pool.Add(new LabelRecord { Key = key, Label = trainLabelBytes[i], Split = DatasetSplits.Train });
                work.Add((key, trainImages, i));
            }

            foreach (var i in testItems)
            {
                var key = KeyFor(DatasetLayout.TestPrefix, i);
                manifest.Add(new LabelRecord { Key = key, Label = testLabelBytes[i], Split = DatasetSplits.Test });
                work.Add((key, testImages, i));
            }

            var written = 0;
            var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken };
            await Parallel.ForEachAsync(work, parallel, async (item, ct) =>
            {
                var png = EncodePng(item.Images, item.Index);
                await CreateIfAbsentAsync(item.Key, png, ct).ConfigureAwait(false);
                progress?.Report(Interlocked.Increment(ref written));
            }).ConfigureAwait(false);
        }

        await CreateIfAbsentAsync(DatasetLayout.ClassesKey, JsonSerializer.SerializeToUtf8Bytes(classes), cancellationToken).ConfigureAwait(false);
        await CreateIfAbsentAsync(DatasetLayout.ManifestKey, await DatasetManifest.WriteAsync(manifest, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        await CreateIfAbsentAsync(DatasetLayout.PoolLabelsKey, await DatasetManifest.WriteAsync(pool, cancellationToken).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        // Last: the descriptor marks the import complete.
        var descriptorJson = JsonSerializer.SerializeToUtf8Bytes(descriptor, IndentedJson);
        await CreateIfAbsentAsync(DatasetLayout.DescriptorKey, descriptorJson, cancellationToken).ConfigureAwait(false);
        return descriptor;
    }

    /// <summary>Encodes item <paramref name="index"/> of a <c>[count, rows, cols]</c> IDX array as an 8-bit grayscale PNG.</summary>
    public static byte[] EncodePng(IdxArray images, int index)
    {
        ArgumentNullException.ThrowIfNull(images);
        var info = new SKImageInfo(images.Dimensions[2], images.Dimensions[1], SKColorType.Gray8, SKAlphaType.Opaque);
        using var image = SKImage.FromPixelCopy(info, images.Item(index).Span)
            ?? throw new InvalidOperationException($"Could not wrap IDX item {index} as a {info.Width}x{info.Height} image.");
        using var data = image.Encode(SKEncodedImageFormat.Png, 100)
            ?? throw new InvalidOperationException($"Could not encode IDX item {index} as PNG.");
        return data.ToArray();
    }

    /// <summary>
    /// Writes one split as shards of up to <see cref="IdxImportOptions.ShardSize"/> images and adds a record per image,
    /// keyed <c>&lt;shard key&gt;#&lt;member&gt;</c> as the Labeler keys it. A shard is built in memory (its PNGs are
    /// encoded in parallel) and written create-only; one left by an interrupted run of the same import has the same bytes
    /// and counts as written, one with other bytes (an interrupted import with other settings) stops the import.
    /// </summary>
    /// <returns><paramref name="written"/> plus the images of this split: the progress figure so far.</returns>
    private async Task<int> WriteShardsAsync(PackedSplit split, List<LabelRecord> records, IdxImportOptions options, int written, IProgress<int>? progress, CancellationToken cancellationToken)
    {
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Concurrency, CancellationToken = cancellationToken };
        for (var shard = 0; shard * options.ShardSize < split.Items.Count; shard++)
        {
            var first = shard * options.ShardSize;
            var images = new PackedImage[Math.Min(options.ShardSize, split.Items.Count - first)];
            await Parallel.ForAsync(0, images.Length, parallel, (j, _) =>
            {
                var index = split.Items[first + j];
                images[j] = new PackedImage(index, EncodePng(split.Images, index), split.Labels[index]);
                return ValueTask.CompletedTask;
            }).ConfigureAwait(false);

            var key = DatasetLayout.ShardKey(split.Prefix, shard, options.Format);
            using var buffer = new MemoryStream();
            var names = options.Format == DatasetFormat.Parquet
                ? await ParquetImageTableWriter.WriteAsync(buffer, images, split.WithLabels, options.RowGroupSize, cancellationToken).ConfigureAwait(false)
                : await TarImageArchiveWriter.WriteAsync(buffer, images, split.WithLabels, cancellationToken).ConfigureAwait(false);
            try
            {
                await _destination.CreateOrConfirmAsync(key, buffer.GetBuffer().AsMemory(0, (int)buffer.Length), cancellationToken).ConfigureAwait(false);
            }
            catch (ObjectAlreadyExistsException e)
            {
                throw new InvalidOperationException(
                    $"'{_destination.Location}{key}' already exists with other contents (left by an interrupted import with other settings?); import into an empty location.", e);
            }

            for (var j = 0; j < images.Length; j++)
            {
                records.Add(new LabelRecord { Key = PackedFormats.MemberKey(key, names[j]), Label = images[j].Label, Split = split.Split });
            }

            written += images.Length;
            progress?.Report(written);
        }

        return written;
    }

    private async Task CreateIfAbsentAsync(string key, byte[] content, CancellationToken cancellationToken)
    {
        try
        {
            await _destination.CreateAsync(key, content, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectAlreadyExistsException)
        {
            // Left by an earlier, interrupted run of the same import: the content is the same
            // (same source, same settings, deterministic encoding), so there is nothing to do.
        }
    }

    private async Task<DatasetDescriptor?> TryReadDescriptorAsync(CancellationToken cancellationToken)
    {
        try
        {
            var bytes = await _destination.ReadAllBytesAsync(DatasetLayout.DescriptorKey, cancellationToken).ConfigureAwait(false);
            return JsonSerializer.Deserialize<DatasetDescriptor>(bytes);
        }
        catch (ObjectNotFoundException)
        {
            return null;
        }
    }

    private static string KeyFor(string prefix, int index) => prefix + index.ToString("D5", CultureInfo.InvariantCulture) + ".png";

    private static int Limit(int count, int limit) => limit > 0 ? Math.Min(count, limit) : count;

    private static int Max(ReadOnlySpan<byte> values)
    {
        var max = 0;
        foreach (var v in values)
        {
            max = Math.Max(max, v);
        }

        return max;
    }

    private static void CheckPair(IdxArray images, IdxArray labels, string imagesPath, string labelsPath)
    {
        if (images.Dimensions.Count != 3)
        {
            throw new IdxFormatException($"IDX file '{imagesPath}' has {images.Dimensions.Count} dimensions; images need 3 (count, rows, cols).");
        }

        if (labels.Dimensions.Count != 1)
        {
            throw new IdxFormatException($"IDX file '{labelsPath}' has {labels.Dimensions.Count} dimensions; labels need 1.");
        }

        if (images.Count != labels.Count)
        {
            throw new IdxFormatException($"IDX files '{imagesPath}' ({images.Count} images) and '{labelsPath}' ({labels.Count} labels) do not match.");
        }
    }
}
