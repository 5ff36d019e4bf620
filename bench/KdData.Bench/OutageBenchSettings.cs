using System.Globalization;
using System.Text.Json.Serialization;
using KdData.Datasets;

namespace KdData.Bench;

/// <summary>What <c>outage</c> sweeps and how the Labeler runs; every value has a command-line switch.</summary>
internal sealed record OutageBenchSettings
{
    /// <summary>
    /// How often the Labeler renews its partition lease while it works (<c>LeaseKeeper.RenewInterval</c>, internal to
    /// KdData.Core): the offsets are measured back from the next renewal, which is due this long after the last one.
    /// </summary>
    public const double RenewIntervalSeconds = 10;

    /// <summary>Fashion-MNIST train images imported into Azurite and labeled in every case (<c>--images</c>). Default 12,000.</summary>
    [JsonPropertyName("images")]
    public int Images { get; init; } = 12_000;

    /// <summary>The Labeler program (<c>--labeler</c>), run as <c>dotnet &lt;path&gt;</c>. Default the Release build of src/Labeler.</summary>
    [JsonPropertyName("labeler")]
    public string Labeler { get; init; } = Path.Combine("src", "Labeler", "bin", "Release", "net10.0", "kddata-labeler.dll");

    /// <summary>Outage lengths in seconds (<c>--durations</c>, comma-separated). Default 10, 20, 40: up to the promised 40 s.</summary>
    [JsonPropertyName("durations")]
    public IReadOnlyList<double> Durations { get; init; } = [10, 20, 40];

    /// <summary>
    /// Where the outage begins, in seconds before the next lease renewal is due (<c>--offsets</c>, comma-separated).
    /// Default 9.5, 7.5, 5, 2.5, 0.5: from just after one renewal to just before the next (0.5 = the renewal falls
    /// into the outage at once, the case with the least lease left when storage comes back).
    /// </summary>
    [JsonPropertyName("offsets")]
    public IReadOnlyList<double> Offsets { get; init; } = [9.5, 7.5, 5, 2.5, 0.5];

    /// <summary>
    /// Labeler views per image (<c>--views</c>). Default 8: the run must still be labeling well after a 40 s outage that
    /// begins up to 20 s into it, and a commit must be due while storage is away. With 8 views the teacher is the bound
    /// (every queue before it full, 512 prepared images in flight, ~3 s of teacher work), so results keep arriving for a
    /// few seconds after storage goes and the 1 s commit meets the outage; 12,000 images took 99 s of labeling at load
    /// average 5-7 on 2 cores (~170 images/s steady) and ~7 minutes with two training runs beside it (~30 images/s);
    /// an idle machine would still need ~35 s, more than the ~20 s after which the outage begins at the latest. Measured alternatives: 1 view and 1 download took 50 s, 4 views and 1 download 109 s, but
    /// one download at a time makes the fetch the bound, everything after it empty, and then no commit is ever due
    /// during an outage (a commit is only attempted when a result arrives), so only the fetch stage met it.
    /// </summary>
    [JsonPropertyName("views")]
    public int Views { get; init; } = 8;

    /// <summary>Labeler concurrent downloads (<c>--fetch</c>). Default 16, the Labeler's own: the outage meets a production-like fetch stage.</summary>
    [JsonPropertyName("fetch")]
    public int FetchConcurrency { get; init; } = 16;

    /// <summary>Labeler batch size (<c>--batch</c>). Default 64.</summary>
    [JsonPropertyName("batch")]
    public int Batch { get; init; } = 64;

    /// <summary>Labeler commit interval in seconds (<c>--commit-interval</c>). Default 1: a commit is almost always due during an outage.</summary>
    [JsonPropertyName("commit_interval_seconds")]
    public double CommitIntervalSeconds { get; init; } = 1;

    /// <summary>
    /// Seconds to wait for the Labeler's exit after storage is back before it is killed and the case failed
    /// (<c>--exit-timeout</c>). Default 600: with two other training runs on the 2 cores the teacher managed only
    /// ~30 images/s (8 views), and 12,000 images then take ~7 minutes.
    /// </summary>
    [JsonPropertyName("exit_timeout_seconds")]
    public double ExitTimeoutSeconds { get; init; } = 600;

    /// <summary>Where the Fashion-MNIST IDX files are (<c>--idx</c>). Default Debian's <c>/usr/share/datasets/fashion-mnist</c>.</summary>
    [JsonPropertyName("idx")]
    public string IdxDirectory { get; init; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where the JSON result goes (<c>--out</c>); the Labeler logs go to its <c>outage/</c> folder. Default <c>out/bench</c>.</summary>
    [JsonPropertyName("out")]
    public string OutputDirectory { get; init; } = Path.Combine("out", "bench");

    /// <summary>The markdown result file, rewritten after every case (<c>--table</c>). Default <c>bench/labeler/outage.md</c>.</summary>
    [JsonPropertyName("table")]
    public string TablePath { get; init; } = Path.Combine("bench", "labeler", "outage.md");

    public static OutageBenchSettings From(BenchArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var defaults = new OutageBenchSettings();
        var settings = new OutageBenchSettings
        {
            Images = args.GetInt("images", defaults.Images, 1, 60_000),
            Labeler = args.GetString("labeler") ?? defaults.Labeler,
            Durations = Numbers(args, "durations", defaults.Durations, 1, 600),
            // An offset is within one renewal interval: 0 and 10 would both be "at a renewal".
            Offsets = Numbers(args, "offsets", defaults.Offsets, 0.1, RenewIntervalSeconds - 0.1),
            Views = args.GetInt("views", defaults.Views, 1, 64),
            FetchConcurrency = args.GetInt("fetch", defaults.FetchConcurrency, 1, 1024),
            Batch = args.GetInt("batch", defaults.Batch, 1, 65_536),
            CommitIntervalSeconds = args.GetDouble("commit-interval", defaults.CommitIntervalSeconds, 0.1, 600),
            ExitTimeoutSeconds = args.GetDouble("exit-timeout", defaults.ExitTimeoutSeconds, 10, 3600),
            IdxDirectory = args.GetString("idx") ?? defaults.IdxDirectory,
            OutputDirectory = args.GetString("out") ?? defaults.OutputDirectory,
            TablePath = args.GetString("table") ?? defaults.TablePath,
        };
        args.RejectUnknown();
        if (!File.Exists(settings.Labeler))
        {
            // Checked before Azurite starts and the import runs, so a missing build costs one line, not a minute.
            throw new ArgumentException(
                $"the Labeler is not built at '{settings.Labeler}': run 'dotnet build src/Labeler -c Release' (or bench/labeler/outage.sh), or pass --labeler PATH.");
        }

        var missing = IdxImportOptions.MissingFiles(settings.IdxDirectory);
        if (missing.Count > 0)
        {
            throw new ArgumentException(
                $"no Fashion-MNIST IDX files in '{settings.IdxDirectory}' (missing {string.Join(", ", missing)}): install them with 'apt-get install dataset-fashion-mnist', or pass --idx DIR.");
        }

        return settings;
    }

    private static List<double> Numbers(BenchArguments args, string name, IReadOnlyList<double> fallback, double min, double max)
    {
        if (args.GetString(name) is not { } text)
        {
            return [.. fallback];
        }

        var values = new List<double>();
        foreach (var part in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            if (!double.TryParse(part, NumberStyles.Float, CultureInfo.InvariantCulture, out var value) || value < min || value > max)
            {
                throw new ArgumentException($"--{name} is '{text}'; expected comma-separated numbers in [{min}, {max}].");
            }

            values.Add(value);
        }

        return values.Count > 0 ? values : throw new ArgumentException($"--{name} is empty.");
    }
}
