using KdData.Datasets;

namespace KdData.Bench;

/// <summary>What <c>labeler</c> measures and how; every value has a command-line switch.</summary>
internal sealed record LabelerBenchSettings
{
    /// <summary>Fashion-MNIST train images labeled per throughput run (<c>--images</c>). Default 10,000.</summary>
    public int Images { get; init; } = 10_000;

    /// <summary>Teacher batch size, for teacher-only and end-to-end alike (<c>--batch</c>). Default 128 (the Labeler's).</summary>
    public int Batch { get; init; } = 128;

    /// <summary>Torch intra-op threads (<c>--threads</c>). Default 2 (the cores of the reference machine).</summary>
    public int Threads { get; init; } = 2;

    /// <summary>Labeler decode workers (<c>--decode-workers</c>). Default 0 = the engine's default (one per core).</summary>
    public int DecodeWorkers { get; init; }

    /// <summary>Labeler concurrent downloads (<c>--fetch</c>). Default 16 (the engine's default).</summary>
    public int FetchConcurrency { get; init; } = 16;

    /// <summary>
    /// The teacher (<c>--teacher</c>): <c>resnet18</c> (small stem, 32x32, the default) or <c>trivial</c>
    /// (<c>avgpool_linear</c>: global average pool + linear at 28x28, the images' own size; same 10-class output), which takes the teacher's cost out so the images/s and CPU ms per image are the feed path's.
    /// </summary>
    public string Teacher { get; init; } = "resnet18";

    /// <summary>Whether to measure the single-threaded CPU time of each pipeline stage on in-memory images first (<c>--stages</c>). Default false.</summary>
    public bool Stages { get; init; }

    /// <summary>Teacher input channels (<c>--channels</c>): 1 (Fashion-MNIST is grayscale) or 3. Default 1.</summary>
    public int Channels { get; init; } = 1;

    /// <summary>Whether to measure end-to-end from the local store (<c>--local</c>). Default true.</summary>
    public bool Local { get; init; } = true;

    /// <summary>Whether to measure end-to-end from Azurite (<c>--azurite</c>). Default true.</summary>
    public bool Azurite { get; init; } = true;

    /// <summary>Whether to measure peak RSS of labeling <see cref="Images"/> vs <see cref="RssImages"/> in child processes (<c>--rss</c>). Default false (slow).</summary>
    public bool Rss { get; init; }

    /// <summary>Images of the large RSS run (<c>--rss-images</c>). Default 60,000 (all of Fashion-MNIST train).</summary>
    public int RssImages { get; init; } = 60_000;

    /// <summary>Seconds of timed teacher-only forward passes, after the warm-up (<c>--teacher-seconds</c>). Default 20.</summary>
    public double TeacherSeconds { get; init; } = 20;

    /// <summary>Folder of the cached imported datasets (<c>--data</c>). Default <c>$TMPDIR/kddata-bench</c>.</summary>
    public string DataDirectory { get; init; } = Path.Combine(Path.GetTempPath(), "kddata-bench");

    /// <summary>Where the Fashion-MNIST IDX files are (<c>--idx</c>). Default Debian's <c>/usr/share/datasets/fashion-mnist</c>.</summary>
    public string IdxDirectory { get; init; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where the JSON result goes (<c>--out</c>). Default <c>out/bench</c> under the working directory.</summary>
    public string OutputDirectory { get; init; } = Path.Combine("out", "bench");

    public static LabelerBenchSettings From(BenchArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var defaults = new LabelerBenchSettings();
        var settings = new LabelerBenchSettings
        {
            Images = args.GetInt("images", defaults.Images, 1, 60_000),
            Batch = args.GetInt("batch", defaults.Batch, 1, 65_536),
            Threads = args.GetInt("threads", defaults.Threads, 1, 1024),
            DecodeWorkers = args.GetInt("decode-workers", defaults.DecodeWorkers, 0, 256),
            FetchConcurrency = args.GetInt("fetch", defaults.FetchConcurrency, 1, 1024),
            Teacher = args.GetString("teacher") ?? defaults.Teacher,
            Stages = args.GetBool("stages", defaults.Stages),
            Channels = args.GetInt("channels", defaults.Channels, 1, 3),
            Local = args.GetBool("local", defaults.Local),
            Azurite = args.GetBool("azurite", defaults.Azurite),
            Rss = args.GetBool("rss", defaults.Rss),
            RssImages = args.GetInt("rss-images", defaults.RssImages, 1, 60_000),
            TeacherSeconds = args.GetDouble("teacher-seconds", defaults.TeacherSeconds, 1, 3600),
            DataDirectory = args.GetString("data") ?? defaults.DataDirectory,
            IdxDirectory = args.GetString("idx") ?? defaults.IdxDirectory,
            OutputDirectory = args.GetString("out") ?? defaults.OutputDirectory,
        };
        if (settings.Channels == 2)
        {
            throw new ArgumentException("--channels is 2; the teacher takes 1 (grayscale) or 3 (RGB) channels.");
        }

        if (settings.Teacher is not ("resnet18" or "trivial"))
        {
            throw new ArgumentException($"--teacher is '{settings.Teacher}'; expected resnet18 or trivial.");
        }

        args.RejectUnknown();
        var missing = IdxImportOptions.MissingFiles(settings.IdxDirectory);
        if (missing.Count > 0)
        {
            // Checked before anything starts, so a machine without the dataset gets one line instead of a failure midway.
            throw new ArgumentException(
                $"no Fashion-MNIST IDX files in '{settings.IdxDirectory}' (missing {string.Join(", ", missing)}): install them with 'apt-get install dataset-fashion-mnist', or pass --idx DIR.");
        }

        return settings;
    }
}
