using System.ComponentModel.DataAnnotations;

namespace KdData.Trainer;

/// <summary>The <c>import</c> command: an IDX dataset into a store. Bound from the <c>Import</c> section.</summary>
public sealed class ImportOptions
{
    public const string SectionName = "Import";

    /// <summary>Folder with the four IDX files (plain or .gz). Default: Debian's <c>dataset-fashion-mnist</c> package.</summary>
    [Required]
    public string Source { get; set; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Store location to import into (see README "Locations"). Default <c>file:data/fashion-mnist/</c>.</summary>
    [Required]
    public string Destination { get; set; } = "file:data/fashion-mnist/";

    /// <summary>Share of each train class that is labeled; the rest becomes the unlabeled pool. Default 0.1.</summary>
    [Range(0.0, 1.0)]
    public double LabeledFraction { get; set; } = 0.1;

    /// <summary>Seed of the labeled/pool split. Default 42.</summary>
    public ulong Seed { get; set; } = 42;

    /// <summary>Class names preset: <c>fashion-mnist</c> (default), <c>mnist</c>, or <c>numbers</c>.</summary>
    [RegularExpression("^(fashion-mnist|mnist|numbers)$", ErrorMessage = "Import:Classes must be 'fashion-mnist', 'mnist' or 'numbers'.")]
    public string Classes { get; set; } = "fashion-mnist";

    /// <summary>Only the first N train images (0 = all, the default).</summary>
    [Range(0, int.MaxValue)]
    public int TrainLimit { get; set; }

    /// <summary>Only the first N test images (0 = all, the default).</summary>
    [Range(0, int.MaxValue)]
    public int TestLimit { get; set; }

    /// <summary>Concurrent writes. Default 16.</summary>
    [Range(1, 256)]
    public int Concurrency { get; set; } = 16;
}
