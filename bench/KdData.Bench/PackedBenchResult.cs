using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>Everything one <c>packed</c> run measured; written to <c>out/bench/packed-&lt;time&gt;.json</c>.</summary>
internal sealed record PackedBenchResult
{
    /// <summary>Goal (issue 21): packed inputs over Azurite give at least this many times the images/s of loose blobs.</summary>
    public const double RatioGoal = 10;

    /// <summary>Goal: at most this many CPU ms per image in our process, for packed inputs over Azurite.</summary>
    public const double OurCpuGoalMs = 0.1;

    /// <summary>Goal: at most this many CPU ms per image in Azurite's process, for packed inputs.</summary>
    public const double AzuriteCpuGoalMs = 0.05;

    [JsonPropertyName("started_at")]
    public DateTimeOffset StartedAt { get; init; }

    [JsonPropertyName("command")]
    public required string Command { get; init; }

    [JsonPropertyName("machine")]
    public required MachineDescription Machine { get; init; }

    [JsonPropertyName("cpu")]
    public required CpuInfo Cpu { get; init; }

    [JsonPropertyName("settings")]
    public required PackedBenchSettings Settings { get; init; }

    [JsonPropertyName("teacher")]
    public required string Teacher { get; init; }

    /// <summary>Per input kind: objects uploaded to Azurite and their bytes (not measured).</summary>
    [JsonPropertyName("inputs")]
    public Dictionary<string, PackedInputSize> Inputs { get; init; } = [];

    /// <summary>Seconds spent writing and uploading the inputs (not measured).</summary>
    [JsonPropertyName("upload_seconds")]
    public double UploadSeconds { get; set; }

    [JsonPropertyName("runs")]
    public List<PackedRunResult> Runs { get; init; } = [];

    /// <summary>CPU ms per image of each profiled stage (<c>--stages true</c>), measured after the rounds.</summary>
    [JsonPropertyName("stages")]
    public List<StageCpuResult>? Stages { get; set; }

    /// <summary>1-minute load average before the first and after the last measured run.</summary>
    [JsonPropertyName("load_average")]
    public List<double> LoadAverage { get; init; } = [];

    [JsonPropertyName("total_seconds")]
    public double TotalSeconds { get; set; }
}
