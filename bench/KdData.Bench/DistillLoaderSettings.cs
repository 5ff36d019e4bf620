using KdData.Datasets;

namespace KdData.Bench;

/// <summary>What <c>distill-loader</c> measures and how; every value has a command-line switch.</summary>
internal sealed record DistillLoaderSettings
{
    /// <summary>Labeled Fashion-MNIST train images of the loader and objective runs (<c>--labeled</c>). Default 6,000 (10 %).</summary>
    public int Labeled { get; init; } = 6_000;

    /// <summary>Pool images, pseudo-labeled by the teacher, of the loader and objective runs (<c>--pool</c>). Default 12,000.</summary>
    public int Pool { get; init; } = 12_000;

    /// <summary>Student batch size (<c>--batch</c>). Default 128 (the distill stage's).</summary>
    public int Batch { get; init; } = 128;

    /// <summary>Torch intra-op threads (<c>--threads</c>). Default 2 (the cores of the reference machine).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Width of the <c>convnet</c> student (<c>--width</c>). Default 32 (the results table's student).</summary>
    public int Width { get; init; } = 32;

    /// <summary>
    /// Decode workers of the distillation loader (<c>--decode-workers</c>). Default 1, as in the results table: with
    /// two cores and two Torch threads, more workers only compete with the student's step.
    /// </summary>
    public int DecodeWorkers { get; init; } = 1;

    /// <summary>
    /// LibTorch's oneDNN kernels for the student (<c>--onednn</c>: auto, off or on, as <c>Torch:OneDnn</c>). Default auto,
    /// what the Trainer does: a faster step makes the loader's share larger, so the loader ratio is measured against it.
    /// </summary>
    public string OneDnn { get; init; } = "auto";

    /// <summary>Interleaved rounds of (real loader, pre-made KD, pre-made CE) epochs (<c>--rounds</c>). Default 2.</summary>
    public int Rounds { get; init; } = 2;

    /// <summary>Whether to measure peak RSS of the real <c>kddata-trainer distill</c> in child processes (<c>--rss</c>). Default true.</summary>
    public bool Rss { get; init; } = true;

    /// <summary>Pseudo-labeled rows of the small RSS run (<c>--rss-small</c>). Default 10,000.</summary>
    public int RssSmall { get; init; } = 10_000;

    /// <summary>Pseudo-labeled rows of the large RSS run (<c>--rss-large</c>). Default 54,000 (the 90 % pool of the results table).</summary>
    public int RssLarge { get; init; } = 54_000;

    /// <summary>Labeled images next to the pool in both RSS runs (<c>--rss-labeled</c>). Default 1,000: equal in both, so only the pool differs.</summary>
    public int RssLabeled { get; init; } = 1_000;

    /// <summary>
    /// Seconds each RSS child trains after its data is loaded before it is stopped with SIGTERM (<c>--rss-seconds</c>).
    /// Default 60: the peak is reached once the shard set is read and the pipeline is full, long before an epoch ends.
    /// </summary>
    public double RssSeconds { get; init; } = 60;

    /// <summary>Folder of the cached imported datasets (<c>--data</c>). Default <c>$TMPDIR/kddata-bench</c>.</summary>
    public string DataDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "kddata-bench");

    /// <summary>Where the Fashion-MNIST IDX files are (<c>--idx</c>). Default Debian's <c>/usr/share/datasets/fashion-mnist</c>.</summary>
    public string IdxDirectory { get; init; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where the JSON result goes (<c>--out</c>). Default <c>out/bench</c> under the working directory.</summary>
    public string OutputDirectory { get; init; } = Path.Combine("out", "bench");

    public static DistillLoaderSettings From(BenchArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var defaults = new DistillLoaderSettings();
        var settings = new DistillLoaderSettings
        {
            Labeled = args.GetInt("labeled", defaults.Labeled, 1, 59_000),
            Pool = args.GetInt("pool", defaults.Pool, 1, 59_000),
            Batch = args.GetInt("batch", defaults.Batch, 2, 65_536),
            Threads = args.GetInt("threads", defaults.Threads, 1, 1024),
            Width = args.GetInt("width", defaults.Width, 1, 1024),
            DecodeWorkers = args.GetInt("decode-workers", defaults.DecodeWorkers, 0, 256),
            OneDnn = args.GetString("onednn") ?? defaults.OneDnn,
            Rounds = args.GetInt("rounds", defaults.Rounds, 1, 100),
            Rss = args.GetBool("rss", defaults.Rss),
            RssSmall = args.GetInt("rss-small", defaults.RssSmall, 1, 59_000),
            RssLarge = args.GetInt("rss-large", defaults.RssLarge, 1, 59_000),
            RssLabeled = args.GetInt("rss-labeled", defaults.RssLabeled, 1, 59_000),
            RssSeconds = args.GetDouble("rss-seconds", defaults.RssSeconds, 1, 36_000),
            DataDirectory = args.GetString("data") ?? defaults.DataDirectory,
            IdxDirectory = args.GetString("idx") ?? defaults.IdxDirectory,
            OutputDirectory = args.GetString("out") ?? defaults.OutputDirectory,
        };
        args.RejectUnknown();
        if (settings.OneDnn is not ("auto" or "off" or "on"))
        {
            throw new ArgumentException($"--onednn is '{settings.OneDnn}'; use auto, off or on.");
        }
        foreach (var (name, labeled, pool) in new[] { ("--labeled + --pool", settings.Labeled, settings.Pool), ("--rss-labeled + --rss-large", settings.RssLabeled, settings.RssLarge), ("--rss-labeled + --rss-small", settings.RssLabeled, settings.RssSmall) })
        {
            if (labeled + pool > 60_000)
            {
                throw new ArgumentException($"{name} is {labeled + pool}; Fashion-MNIST has 60,000 train images.");
            }
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
