using System.Diagnostics.Metrics;

namespace KdData.Labeling;

/// <summary>
/// The Labeler's instruments (meter <c>KdData.Labeler</c>), for dotnet-counters or an
/// OpenTelemetry exporter: images by outcome, views by decision, errors by reason, batch latency.
/// </summary>
public static class LabelerMetrics
{
    public const string MeterName = "KdData.Labeler";

    private static readonly Meter Meter = new(MeterName);

    internal static readonly Counter<long> Images = Meter.CreateCounter<long>("kddata.labeler.images", "{image}", "Images committed, by outcome.");
    internal static readonly Counter<long> Views = Meter.CreateCounter<long>("kddata.labeler.views", "{view}", "Views labeled, by decision (accepted/rejected).");
    internal static readonly Counter<long> Errors = Meter.CreateCounter<long>("kddata.labeler.errors", "{image}", "Images that failed, by reason.");
    internal static readonly Histogram<double> BatchSeconds = Meter.CreateHistogram<double>("kddata.labeler.batch.duration", "s", "Teacher forward pass per batch.");
    internal static readonly Counter<long> Commits = Meter.CreateCounter<long>("kddata.labeler.commits", "{commit}", "Commits of shards to the manifest.");
}
