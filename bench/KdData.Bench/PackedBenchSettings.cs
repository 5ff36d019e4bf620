using System.Text.Json.Serialization;
using KdData.Datasets;
using KdData.Labeling;

namespace KdData.Bench;

/// <summary>What <c>packed</c> measures and how; every value has a command-line switch.</summary>
internal sealed record PackedBenchSettings
{
    /// <summary>Fashion-MNIST train images, the same ones loose and packed (<c>--images</c>). Default 60,000: the whole train set, as the issue asks.</summary>
    [JsonPropertyName("images")]
    public int Images { get; init; } = 60_000;

    /// <summary>
    /// Packed formats measured against loose blobs (<c>--format</c>): <c>parquet</c>, <c>tar</c> or <c>both</c>. Default
    /// <c>both</c>: a round is then loose, Parquet, tar, so each packed run has its loose run in the same round.
    /// </summary>
    [JsonPropertyName("formats")]
    public IReadOnlyList<string> Formats { get; init; } = [PackedBenchKinds.Parquet, PackedBenchKinds.Tar];

    /// <summary>Rounds of loose, then packed (<c>--rounds</c>): ABAB, so drift of the shared machine shows in the pairs. Default 2.</summary>
    [JsonPropertyName("rounds")]
    public int Rounds { get; init; } = 2;

    /// <summary>Images per packed file (<c>--shard-images</c>). Default 10,000: six files for the train set, as a packed data set is usually cut.</summary>
    [JsonPropertyName("shard_images")]
    public int ShardImages { get; init; } = 10_000;

    /// <summary>Rows per Parquet row group (<c>--row-group</c>). Default 1,000: DuckDB's <c>ROW_GROUP_SIZE 1000</c> that the Labeler's docs suggest for image tables.</summary>
    [JsonPropertyName("row_group")]
    public int RowGroup { get; init; } = 1_000;

    /// <summary>
    /// Images of the unmeasured warm-up runs (<c>--warmup</c>), one per input kind before the first round, from their own
    /// locations; 0 for none. Default 2,000: the first run of each kind otherwise pays for JIT compilation of its read path
    /// (about a second of CPU, 0.01-0.02 ms/img at 60,000 images), which is not the steady cost being measured.
    /// </summary>
    [JsonPropertyName("warmup")]
    public int Warmup { get; init; } = 2_000;

    /// <summary>
    /// Whether to profile where the CPU goes after the rounds (<c>--stages</c>): the loose path's stages over Azurite
    /// (<see cref="StageProfile"/> on up to 5,000 images), per packed format reading its files alone
    /// (<see cref="PackedReadProfile"/>), and Azurite's CPU without requests and for one save of its metadata
    /// (<see cref="AzuriteAutosaveProfile"/>). Default false.
    /// </summary>
    [JsonPropertyName("stages")]
    public bool Stages { get; init; }

    /// <summary>Teacher batch size (<c>--batch</c>). Default 128 (the Labeler's).</summary>
    [JsonPropertyName("batch")]
    public int Batch { get; init; } = 128;

    /// <summary>Torch intra-op threads (<c>--threads</c>). Default 2, as the <c>labeler</c> bench.</summary>
    [JsonPropertyName("threads")]
    public int Threads { get; init; } = 2;

    /// <summary>Labeler decode workers (<c>--decode-workers</c>). Default 0 = the engine's default (one per core).</summary>
    [JsonPropertyName("decode_workers")]
    public int DecodeWorkers { get; init; }

    /// <summary>Labeler concurrent downloads (<c>--fetch</c>). Default 16 (the engine's default); each reads one loose blob or one packed file.</summary>
    [JsonPropertyName("fetch")]
    public int FetchConcurrency { get; init; } = 16;

    /// <summary>Packed files read at once (<c>--packed-concurrency</c>, <c>Labeler:PackedConcurrency</c>). Default the engine's (2).</summary>
    [JsonPropertyName("packed_concurrency")]
    public int PackedConcurrency { get; init; } = new LabelingOptions().PackedConcurrency;

    /// <summary>
    /// Folder of the packed files written for the upload (<c>--data</c>), kept between runs so a rerun with the same
    /// images and shapes reuses them. Default <c>/var/tmp/kddata-bench/packed</c>: outside the work tree.
    /// </summary>
    [JsonPropertyName("data")]
    public string DataDirectory { get; init; } = Path.Combine("/var/tmp", "kddata-bench", "packed");

    /// <summary>
    /// Whether Azurite keeps its data in <c>&lt;data&gt;/azurite</c> between runs (<c>--reuse-azurite</c>), so a rerun finds
    /// the inputs uploaded and skips the upload (60,000 loose blobs, one request each: most of a first run). Default
    /// true; false = a fresh temp folder, removed at the end. Each run writes its labels under a new prefix either way.
    /// </summary>
    [JsonPropertyName("reuse_azurite")]
    public bool ReuseAzurite { get; init; } = true;

    /// <summary>Where the Fashion-MNIST IDX files are (<c>--idx</c>). Default Debian's <c>/usr/share/datasets/fashion-mnist</c>.</summary>
    [JsonPropertyName("idx")]
    public string IdxDirectory { get; init; } = "/usr/share/datasets/fashion-mnist";

    /// <summary>Where the JSON result goes (<c>--out</c>). Default <c>out/bench</c> under the working directory.</summary>
    [JsonPropertyName("out")]
    public string OutputDirectory { get; init; } = Path.Combine("out", "bench");

    /// <summary>
    /// Markdown result file (<c>--table</c>), written at the end; empty for none. Default none, so a trial run does not
    /// overwrite the committed <c>bench/labeler/packed.md</c> (<c>bench/labeler/packed.sh</c> names it).
    /// </summary>
    [JsonPropertyName("table")]
    public string TablePath { get; init; } = string.Empty;

    /// <summary>The input kinds of one round, loose first.</summary>
    [JsonIgnore]
    public IReadOnlyList<string> Kinds => [PackedBenchKinds.Loose, .. Formats];

    public static PackedBenchSettings From(BenchArguments args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var defaults = new PackedBenchSettings();
        var format = args.GetString("format") ?? "both";
        var settings = new PackedBenchSettings
        {
            Images = args.GetInt("images", defaults.Images, 1, 60_000),
            Formats = format switch
            {
                "both" => [PackedBenchKinds.Parquet, PackedBenchKinds.Tar],
                PackedBenchKinds.Parquet or PackedBenchKinds.Tar => [format],
                _ => throw new ArgumentException($"--format is '{format}'; expected parquet, tar or both."),
            },
            Rounds = args.GetInt("rounds", defaults.Rounds, 1, 100),
            ShardImages = args.GetInt("shard-images", defaults.ShardImages, 1, 1_000_000),
            RowGroup = args.GetInt("row-group", defaults.RowGroup, 1, 1_000_000),
            Warmup = args.GetInt("warmup", defaults.Warmup, 0, 60_000),
            Stages = args.GetBool("stages", defaults.Stages),
            Batch = args.GetInt("batch", defaults.Batch, 1, 65_536),
            Threads = args.GetInt("threads", defaults.Threads, 1, 1024),
            DecodeWorkers = args.GetInt("decode-workers", defaults.DecodeWorkers, 0, 256),
            FetchConcurrency = args.GetInt("fetch", defaults.FetchConcurrency, 1, 1024),
            PackedConcurrency = args.GetInt("packed-concurrency", defaults.PackedConcurrency, 1, 256),
            DataDirectory = args.GetString("data") ?? defaults.DataDirectory,
            ReuseAzurite = args.GetBool("reuse-azurite", defaults.ReuseAzurite),
            IdxDirectory = args.GetString("idx") ?? defaults.IdxDirectory,
            OutputDirectory = args.GetString("out") ?? defaults.OutputDirectory,
            TablePath = args.GetString("table") ?? defaults.TablePath,
        };
        args.RejectUnknown();
        var missing = IdxImportOptions.MissingFiles(settings.IdxDirectory);
        if (missing.Count > 0)
        {
            // Checked before Azurite starts, so a machine without the dataset gets one line instead of a failure midway.
            throw new ArgumentException(
                $"no Fashion-MNIST IDX files in '{settings.IdxDirectory}' (missing {string.Join(", ", missing)}): install them with 'apt-get install dataset-fashion-mnist', or pass --idx DIR.");
        }

        return settings;
    }
}
