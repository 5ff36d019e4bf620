using System.ComponentModel.DataAnnotations;
using KdData.PackedImages;
using KdData.Storage;

namespace KdData.Labeling;

/// <summary>What the Labeler reads and writes and how. Bound from the <c>Labeler</c> section.</summary>
public sealed class LabelingOptions : IValidatableObject
{
    public const string SectionName = "Labeler";

    /// <summary>Location of the unlabeled images (see docs/configuration.md "Locations"). Default: the committed sample pool.</summary>
    [Required]
    [StorageLocation(SectionName + ":" + nameof(Input))]
    public string Input { get; set; } = "file:samples/fashion-mnist/unlabeled/";

    /// <summary>Location the shards go to; each teacher writes under <c>teacher=&lt;id&gt;/</c>. Default <c>file:out/labels/</c>.</summary>
    [Required]
    [StorageLocation(SectionName + ":" + nameof(Output))]
    public string Output { get; set; } = "file:out/labels/";

    /// <summary>The teacher's checkpoint record (<c>.json</c>, weights beside it): a path or a location URL. Default: the committed sample teacher.</summary>
    [Required]
    public string Teacher { get; set; } = "file:samples/fashion-mnist/teacher/teacher.json";

    /// <summary>Images per teacher forward pass. Default 128.</summary>
    [Range(1, 65_536)]
    public int BatchSize { get; set; } = 128;

    /// <summary>Concurrent downloads. Default 16: enough to hide blob latency.</summary>
    [Range(1, 1024)]
    public int FetchConcurrency { get; set; } = 16;

    /// <summary>Decode + preprocess workers. Default 0 = one per core.</summary>
    [Range(0, 256)]
    public int DecodeWorkers { get; set; }

    /// <summary>Capacity of each channel between stages, in images. Default 256: a slow teacher slows the downloads instead of filling memory.</summary>
    [Range(1, 1_000_000)]
    public int ChannelCapacity { get; set; } = 256;

    /// <summary>Listing page size. Default 1000 (the Blob service's own page).</summary>
    [Range(1, 5000)]
    public int ListPageSize { get; set; } = 1000;

    /// <summary>
    /// Labeled views per image. Default 1: the whole image, preprocessed as the teacher was trained.
    /// Above 1: seeded random resized crops (+ flip) whose boxes are stored with their soft targets (FKD / ReLabel).
    /// </summary>
    [Range(1, 64)]
    public int ViewsPerImage { get; set; } = 1;

    /// <summary>Seed of the views' crops. Default 0.</summary>
    public ulong ViewSeed { get; set; }

    /// <summary>Smallest area fraction of a random view. Default 0.35 (smaller crops of small images carry little signal).</summary>
    [Range(0.01, 1.0)]
    public double ViewScaleMin { get; set; } = 0.35;

    /// <summary>Top-k logits stored per view. Default 0 = all classes when there are at most 100, else 100.</summary>
    [Range(0, 100_000)]
    public int TopK { get; set; }

    /// <summary>Minimum confidence (max probability at T=1) to accept a view; below it, the view goes to the rejected set. Default 0: accept all.</summary>
    [Range(0.0, 1.0)]
    public double MinConfidence { get; set; }

    /// <summary>Per-class minimum confidence by class name or index, overriding <see cref="MinConfidence"/>. Default: none.</summary>
    public Dictionary<string, double> ClassThresholds { get; init; } = [];

    /// <summary>Per-class cap on accepted views per run (Noisy-Student-style balance), by class name or index; the rest are rejected. Default: none.</summary>
    public Dictionary<string, int> ClassCaps { get; init; } = [];

    /// <summary>Stop when more images than this have failed in a run. Default -1: no count limit.</summary>
    [Range(-1, int.MaxValue)]
    public int MaxErrors { get; set; } = -1;

    /// <summary>Stop when more than this percentage of processed images failed (checked after <see cref="ErrorPercentMinImages"/>). Default 50.</summary>
    [Range(0.0, 100.0)]
    public double MaxErrorPercent { get; set; } = 50;

    /// <summary>Images processed before <see cref="MaxErrorPercent"/> applies. Default 100.</summary>
    [Range(1, int.MaxValue)]
    public int ErrorPercentMinImages { get; set; } = 100;

    /// <summary>Most accepted rows per shard. Default 50,000.</summary>
    [Range(1, 10_000_000)]
    public int MaxRowsPerShard { get; set; } = 50_000;

    /// <summary>Rows per Parquet row group. Default 10,000.</summary>
    [Range(1, 10_000_000)]
    public int RowGroupSize { get; set; } = 10_000;

    /// <summary>Commit at least this often so a kill loses little work. Default 00:01:00.</summary>
    [Range(typeof(TimeSpan), "00:00:00.001", "1.00:00:00")]
    public TimeSpan CommitInterval { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>
    /// How long to wait for the partition's lease when another holder has it. Default 00:01:30: longer than
    /// the lease (60 s), so a replica restarted after its predecessor was killed waits it out instead of failing.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan LeaseWait { get; set; } = TimeSpan.FromSeconds(90);

    /// <summary>
    /// How long the run waits, paused, for storage that stopped answering before it gives up (exit 1; the rerun continues
    /// from the last commit). Default 00:05:00. It may exceed the lease: after an outage the run renews its lease, which
    /// works as long as no other replica took the partition meanwhile; if one did, the run stops without committing.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan OutageLimit { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How the objects under <see cref="Input"/> are read. Default <see cref="InputFormat.Auto"/>: <c>.parquet</c> files are
    /// image tables, <c>.tar</c> files WebDataset shards, anything else one image. An image inside a packed file has the key
    /// <c>&lt;object key&gt;#&lt;row index or member name&gt;</c> and the ETag of its file.
    /// </summary>
    public InputFormat InputFormat { get; set; } = InputFormat.Auto;

    /// <summary>Column names and memory bounds for packed files (<c>Labeler:Packed:ImageColumn</c>, …); see <see cref="PackedReadOptions"/>.</summary>
    public PackedReadOptions Packed { get; set; } = new();

    /// <summary>
    /// Packed files read at once. Default 2: one file streams faster than a CPU teacher labels, and each holds up to a
    /// row group in memory.
    /// </summary>
    [Range(1, 256)]
    public int PackedConcurrency { get; set; } = 2;

    /// <summary>
    /// What partitions split: <see cref="PartitionUnit.File"/> (the default) gives each replica whole objects, so a packed
    /// file is read by one replica; <see cref="PartitionUnit.Image"/> hashes every image key, which balances a few large
    /// files across replicas at the price of each replica reading every file.
    /// </summary>
    public PartitionUnit PartitionBy { get; set; } = PartitionUnit.File;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrWhiteSpace(Packed.ImageColumn))
        {
            yield return new ValidationResult("Labeler:Packed:ImageColumn is empty; name the Parquet column that holds the images.", [nameof(Packed)]);
        }

        if (Packed.MaxRowGroupBytes < 1 || Packed.MaxMemberBytes < 1)
        {
            yield return new ValidationResult($"Labeler:Packed:MaxRowGroupBytes ({Packed.MaxRowGroupBytes}) and Labeler:Packed:MaxMemberBytes ({Packed.MaxMemberBytes}) must be at least 1.", [nameof(Packed)]);
        }

        foreach (var (name, value) in ClassThresholds)
        {
            if (value is < 0 or > 1)
            {
                yield return new ValidationResult($"Labeler:ClassThresholds:{name} is {value}; a confidence threshold must be in [0, 1].", [nameof(ClassThresholds)]);
            }
        }

        foreach (var (name, value) in ClassCaps)
        {
            if (value < 0)
            {
                yield return new ValidationResult($"Labeler:ClassCaps:{name} is {value}; a cap must be 0 or more.", [nameof(ClassCaps)]);
            }
        }
    }
}
