using KdData.Datasets;

namespace KdData.Bench;

/// <summary>What <c>distill-packed</c> measures and how; every value has a command-line switch.</summary>
internal sealed record DistillPackedSettings
{
    /// <summary>Labeled Fashion-MNIST train images (<c>--labeled</c>). Default 6,000, as <c>distill-loader</c>.</summary>
    public int Labeled { get; init; } = 6_000;

    /// <summary>Pool images, pseudo-labeled by the teacher (<c>--pool</c>). Default 12,000, as <c>distill-loader</c>.</summary>
    public int Pool { get; init; } = 12_000;

    /// <summary>Packed formats measured against loose files (<c>--format parquet|tar|both</c>). Default parquet.</summary>
    public IReadOnlyList<DatasetFormat> Formats { get; init; } = [DatasetFormat.Parquet];

    /// <summary>Student batch size (<c>--batch</c>). Default 128.</summary>
    public int Batch { get; init; } = 128;

    /// <summary>Torch intra-op threads (<c>--threads</c>). Default 2.</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Width of the convnet student and teacher (<c>--width</c>). Default 32.</summary>
    public int Width { get; init; } = 32;

    /// <summary>Decode workers of the distillation loader (<c>--decode-workers</c>). Default 1.</summary>
    public int DecodeWorkers { get; init; } = 1;

    /// <summary>Rounds of (loose, then each packed format) epochs (<c>--rounds</c>). Default 2: ABAB.</summary>
    public int Rounds { get; init; } = 2;

    /// <summary>Folder of the cached imported datasets (<c>--data</c>). Default <c>$TMPDIR/kddata-bench</c>.</summary>
    public string DataDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "kddata-bench");

    /// <summary>Where the Fashion-MNIST IDX files are (<c>--idx</c>).</summary>
    public string IdxDirectory { get; init; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where the markdown result goes too (<c>--table</c>); null: console only.</summary>
    public string? TablePath { get; init; }

    public static DistillPackedSettings From(BenchArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var defaults = new DistillPackedSettings();
        var format = args.GetString("format") ?? "parquet";
        var settings = new DistillPackedSettings
        {
            Labeled = args.GetInt("labeled", defaults.Labeled, 1, 59_000),
            Pool = args.GetInt("pool", defaults.Pool, 1, 59_000),
            Formats = format switch
            {
                "parquet" => [DatasetFormat.Parquet],
                "tar" => [DatasetFormat.Tar],
                "both" => [DatasetFormat.Parquet, DatasetFormat.Tar],
                _ => throw new ArgumentException($"--format is '{format}'; expected parquet, tar or both."),
            },
            Batch = args.GetInt("batch", defaults.Batch, 2, 65_536),
            Threads = args.GetInt("threads", defaults.Threads, 1, 1024),
            Width = args.GetInt("width", defaults.Width, 1, 1024),
            DecodeWorkers = args.GetInt("decode-workers", defaults.DecodeWorkers, 0, 256),
            Rounds = args.GetInt("rounds", defaults.Rounds, 1, 100),
            DataDirectory = args.GetString("data") ?? defaults.DataDirectory,
            IdxDirectory = args.GetString("idx") ?? defaults.IdxDirectory,
            TablePath = args.GetString("table"),
        };
        args.RejectUnknown();
        if (settings.Labeled + settings.Pool > 60_000)
        {
            throw new ArgumentException($"--labeled + --pool is {settings.Labeled + settings.Pool}; Fashion-MNIST has 60,000 train images.");
        }

        var missing = IdxImportOptions.MissingFiles(settings.IdxDirectory);
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"no Fashion-MNIST IDX files in '{settings.IdxDirectory}' (missing {string.Join(", ", missing)}): install them with 'apt-get install dataset-fashion-mnist', or pass --idx DIR.");
        }

        return settings;
    }
}
