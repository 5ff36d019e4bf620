using System.ComponentModel.DataAnnotations;
using KdData.Datasets;
using KdData.Storage;

namespace KdData.Trainer;

/// <summary>The <c>import</c> command: an IDX dataset into a store. Bound from the <c>Import</c> section.</summary>
public sealed class ImportOptions : IValidatableObject
{
    public const string SectionName = "Trainer:Import";

    /// <summary>Folder with the four IDX files (plain or .gz). Default: Debian's <c>dataset-fashion-mnist</c> package.</summary>
    [Required]
    public string Source { get; set; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Store location to import into (see docs/configuration.md "Locations"). Default <c>file:data/fashion-mnist/</c>.</summary>
    [Required]
    [StorageLocation(SectionName + ":" + nameof(Destination))]
    public string Destination { get; set; } = "file:data/fashion-mnist/";

    /// <summary>Share of each train class that is labeled; the rest becomes the unlabeled pool. Default 0.1.</summary>
    [Range(0.0, 1.0)]
    public double LabeledFraction { get; set; } = 0.1;

    /// <summary>Seed of the labeled/pool split. Default 42.</summary>
    public ulong Seed { get; set; } = 42;

    /// <summary>Class names preset: <c>fashion-mnist</c> (default), <c>mnist</c>, or <c>numbers</c>.</summary>
    [RegularExpression("^(fashion-mnist|mnist|numbers)$", ErrorMessage = "Trainer:Import:Classes must be 'fashion-mnist', 'mnist' or 'numbers'.")]
    public string Classes { get; set; } = "fashion-mnist";

    /// <summary>Only the first N train images (0 = all, the default).</summary>
    [Range(0, int.MaxValue)]
    public int TrainLimit { get; set; }

    /// <summary>Only the first N test images (0 = all, the default).</summary>
    [Range(0, int.MaxValue)]
    public int TestLimit { get; set; }

    /// <summary>Concurrent writes (loose) or PNG encodings (packed). Default 16.</summary>
    [Range(1, 256)]
    public int Concurrency { get; set; } = 16;

    /// <summary>
    /// How the images are stored (<c>--format</c>): <c>Loose</c> (the default: one PNG object per image), <c>Parquet</c>
    /// (Parquet shards with an image column) or <c>Tar</c> (WebDataset tar shards). Packed shards cost one object request
    /// per shard instead of one per image, which is what blob storage charges for and is slow at.
    /// </summary>
    public DatasetFormat Format { get; set; } = DatasetFormat.Loose;

    /// <summary>Most images per packed shard (<c>--shard-size</c>). Default 10,000 (a Fashion-MNIST shard is then 4.6 MB as Parquet, 13 MB as tar).</summary>
    [Range(1, 10_000_000)]
    public int ShardSize { get; set; } = 10_000;

    /// <summary>Rows per Parquet row group, the unit a reader holds in memory. Default 1,000.</summary>
    [Range(1, 1_000_000)]
    public int RowGroupSize { get; set; } = 1_000;

    /// <summary>
    /// Checks at start that <see cref="Source"/> holds the four IDX files, so a machine without the dataset gets one
    /// line saying what is missing and how to get it (exit code 2) instead of a failure midway.
    /// </summary>
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (string.IsNullOrEmpty(Source))
        {
            yield break;
        }

        var missing = IdxImportOptions.MissingFiles(Source);
        if (missing.Count > 0)
        {
            var what = Directory.Exists(Source) ? $"'{Source}' lacks {string.Join(", ", missing.Select(m => m + "[.gz]"))}" : $"'{Source}' does not exist";
            yield return new ValidationResult(
                $"Trainer:Import:Source: no IDX dataset: {what}. Install Fashion-MNIST with 'apt-get install dataset-fashion-mnist' (into /usr/share/datasets/fashion-mnist), or pass --source DIR with the four IDX files.",
                [nameof(Source)]);
        }
    }
}
