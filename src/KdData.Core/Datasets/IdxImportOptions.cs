using System.ComponentModel.DataAnnotations;

namespace KdData.Datasets;

/// <summary>What <see cref="IdxDatasetImporter"/> imports and how.</summary>
public sealed class IdxImportOptions
{
    private static readonly string[] StandardStems = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"];

    /// <summary>Train images IDX file (plain or .gz). Required.</summary>
    [Required]
    public string TrainImages { get; set; } = string.Empty;

    /// <summary>Train labels IDX file. Required.</summary>
    [Required]
    public string TrainLabels { get; set; } = string.Empty;

    /// <summary>Test images IDX file. Required.</summary>
    [Required]
    public string TestImages { get; set; } = string.Empty;

    /// <summary>Test labels IDX file. Required.</summary>
    [Required]
    public string TestLabels { get; set; } = string.Empty;

    /// <summary>Share of each train class that becomes the labeled set; the rest is the unlabeled pool. Default 0.1.</summary>
    [Range(0.0, 1.0)]
    public double LabeledFraction { get; set; } = 0.1;

    /// <summary>Seed of the labeled/pool split. Default 42.</summary>
    public ulong Seed { get; set; } = 42;

    /// <summary>Class names, index = label. Default: the labels' numbers as text.</summary>
    public IList<string> Classes { get; init; } = [];

    /// <summary>Import only the first N train items (0 = all, the default). For samples and quick experiments.</summary>
    [Range(0, int.MaxValue)]
    public int TrainLimit { get; set; }

    /// <summary>Import only the first N test items (0 = all, the default).</summary>
    [Range(0, int.MaxValue)]
    public int TestLimit { get; set; }

    /// <summary>Concurrent image writes (loose) or PNG encodings (packed). Default 16: enough to hide blob latency, cheap for a local folder.</summary>
    [Range(1, 256)]
    public int Concurrency { get; set; } = 16;

    /// <summary>How the images are stored: one PNG object each (the default), or packed into Parquet or tar shards.</summary>
    public DatasetFormat Format { get; set; } = DatasetFormat.Loose;

    /// <summary>
    /// Most images in one packed shard (Parquet or tar). Default 10,000: a Fashion-MNIST shard is then 4.6 MB as Parquet
    /// (13 MB as tar), large enough that per-object costs vanish, small enough that a shard is built in memory and a split
    /// has several.
    /// </summary>
    [Range(1, 10_000_000)]
    public int ShardSize { get; set; } = 10_000;

    /// <summary>Rows per Parquet row group, the unit a reader holds in memory. Default 1,000 (as DuckDB's <c>ROW_GROUP_SIZE 1000</c> for image tables).</summary>
    [Range(1, 1_000_000)]
    public int RowGroupSize { get; set; } = 1_000;

    /// <summary>
    /// Options for the standard file names (<c>train-images-idx3-ubyte[.gz]</c>, <c>train-labels-idx1-ubyte[.gz]</c>,
    /// <c>t10k-images-idx3-ubyte[.gz]</c>, <c>t10k-labels-idx1-ubyte[.gz]</c>) in <paramref name="directory"/>.
    /// </summary>
    public static IdxImportOptions FromDirectory(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        if (!Directory.Exists(directory))
        {
            throw new DirectoryNotFoundException($"IDX source directory '{directory}' does not exist.");
        }

        return new IdxImportOptions
        {
            TrainImages = Find(directory, "train-images-idx3-ubyte"),
            TrainLabels = Find(directory, "train-labels-idx1-ubyte"),
            TestImages = Find(directory, "t10k-images-idx3-ubyte"),
            TestLabels = Find(directory, "t10k-labels-idx1-ubyte"),
        };
    }

    /// <summary>
    /// The standard IDX files (by stem, e.g. <c>train-images-idx3-ubyte</c>) that <see cref="FromDirectory"/> would not
    /// find in <paramref name="directory"/>: all four when the directory does not exist, none when it can import.
    /// Lets a program check its source at start and say what is missing, instead of failing midway.
    /// </summary>
    public static IReadOnlyList<string> MissingFiles(string directory)
    {
        ArgumentNullException.ThrowIfNull(directory);
        var exists = Directory.Exists(directory);
        return [.. StandardStems.Where(stem => !exists || !(File.Exists(Path.Combine(directory, stem)) || File.Exists(Path.Combine(directory, stem + ".gz"))))];
    }

    private static string Find(string directory, string stem)
    {
        foreach (var name in new[] { stem, stem + ".gz" })
        {
            var path = Path.Combine(directory, name);
            if (File.Exists(path))
            {
                return path;
            }
        }

        throw new FileNotFoundException($"IDX source directory '{directory}' has no '{stem}' or '{stem}.gz'.");
    }
}
