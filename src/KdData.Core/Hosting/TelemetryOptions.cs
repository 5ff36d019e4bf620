using System.ComponentModel.DataAnnotations;

namespace KdData.Hosting;

/// <summary>
/// Optional OpenTelemetry export of the hosts' metrics (meters <c>KdData.*</c>, e.g. <c>KdData.Labeler</c>).
/// Off by default; the instruments exist either way (dotnet-counters can read them). Bound from <c>Telemetry</c>.
/// </summary>
public sealed class TelemetryOptions
{
    public const string SectionName = "Telemetry";

    /// <summary>OTLP endpoint, e.g. <c>http://otel-collector:4317</c>. Default: null (no OTLP export).</summary>
    [Url]
    public string? OtlpEndpoint { get; set; }

    /// <summary>Also print metrics to the console (for debugging). Default false.</summary>
    public bool Console { get; set; }

    /// <summary>Export interval. Default 00:00:15.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>True when any exporter is configured.</summary>
    public bool Enabled => OtlpEndpoint is not null || Console;
}
