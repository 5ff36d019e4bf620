using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>What a <c>labeler-child</c> process reports: its run and its own peak RSS.</summary>
internal sealed record ChildLabelingResult(
    [property: JsonPropertyName("run")] EndToEndResult Run,
    [property: JsonPropertyName("peak_rss_kib")] long PeakRssKiB);
