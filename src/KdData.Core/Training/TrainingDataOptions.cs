using System.ComponentModel.DataAnnotations;
using KdData.Storage;

namespace KdData.Training;

/// <summary>
/// How labeled images reach the training step. Bound from <c>Trainer:Data</c>.
/// The pipeline is list -> fetch (N concurrent) -> decode + augment (M workers) -> batch,
/// every stage joined by a bounded channel so memory stays bounded whatever the dataset size.
/// </summary>
public sealed class TrainingDataOptions
{
    public const string SectionName = "Trainer:Data";

    /// <summary>Dataset root (see <c>DatasetLayout</c>): holds <c>manifest.parquet</c> and the images. Default: the committed sample.</summary>
    [Required]
    [StorageLocation(SectionName + ":" + nameof(Dataset))]
    public string Dataset { get; set; } = "file:samples/fashion-mnist/";

    /// <summary>Concurrent fetches from storage. Default 8: hides blob latency; cheap for a local folder.</summary>
    [Range(1, 256)]
    public int FetchConcurrency { get; set; } = 8;

    /// <summary>Decode + augment workers. Default 0 = one per core.</summary>
    [Range(0, 256)]
    public int DecodeWorkers { get; set; }

    /// <summary>Capacity of each channel between stages, in items. Default 256.</summary>
    [Range(1, 1_000_000)]
    public int ChannelCapacity { get; set; } = 256;

    /// <summary>Batches prepared ahead of the training step. Default 4.</summary>
    [Range(1, 1024)]
    public int PrefetchBatches { get; set; } = 4;

    /// <summary>
    /// Local folder caching fetched image bytes, so later epochs do not touch remote storage.
    /// Default <c>out/cache/images</c>; empty disables it. Local-folder datasets are never cached.
    /// </summary>
    public string CacheDirectory { get; set; } = "out/cache/images";

    /// <summary>Random-crop padding in pixels (the image is shifted by up to this many pixels, zero-filled). Default 2; 0 disables.</summary>
    [Range(0, 64)]
    public int CropPadding { get; set; } = 2;

    /// <summary>Randomly flip training images horizontally. Default true.</summary>
    public bool HorizontalFlip { get; set; } = true;

    /// <summary>
    /// Keep a set's preprocessed images (before augmentation) in memory after their first decode, when the whole set
    /// fits in this many MiB as floats; later epochs then neither read nor decode them. Default 1024 (Fashion-MNIST's
    /// 60,000 training images take 180 MiB); 0 never holds. Why: reading and decoding every image every epoch costs
    /// about 0.04 ms of CPU per 28x28 image on the cores that also train, and an epoch's images are the same each time.
    /// Held or not, a batch holds the same values. Distillation also holds each cached teacher view it renders, as its
    /// 8-bit levels (C x S x S bytes, 784 for Fashion-MNIST), in the same budget, so a view drawn again is a table
    /// lookup instead of a cubic resampling of its crop box.
    /// </summary>
    [Range(0, 1_048_576)]
    public int HoldDecodedMegabytes { get; set; } = 1024;
}
