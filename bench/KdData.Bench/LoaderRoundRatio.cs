using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>One <c>distill-loader</c> round's real-loader epoch against the same round's pre-made (KD) epoch.</summary>
/// <param name="Round">The round, from 1.</param>
/// <param name="Ratio">Wall-clock seconds, loader / pre-made.</param>
/// <param name="CpuRatio">Process CPU seconds, loader / pre-made: steadier on a shared machine.</param>
internal sealed record LoaderRoundRatio(
    [property: JsonPropertyName("round")] int Round,
    [property: JsonPropertyName("ratio")] double Ratio,
    [property: JsonPropertyName("cpu_ratio")] double CpuRatio);
