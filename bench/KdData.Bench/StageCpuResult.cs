using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>One stage of <see cref="StageProfile"/>: thread CPU per image, best of its rounds.</summary>
internal sealed record StageCpuResult(
    [property: JsonPropertyName("stage")] string Stage,
    [property: JsonPropertyName("cpu_ms_per_image")] double CpuMsPerImage);
