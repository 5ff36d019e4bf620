using KdData.Imaging;
using KdData.Storage;
using KdData.Torch;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace KdData.Hosting;

/// <summary>Registers what both hosts share: storage, Torch and image settings, validated at start.</summary>
public static class CoreServiceCollectionExtensions
{
    public static IServiceCollection AddKdDataCore(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        services.AddKdDataStorage(configuration);
        services.AddValidatedSettings<TorchOptions>(configuration, TorchOptions.SectionName);
        services.AddValidatedSettings<ImageOptions>(configuration, ImageOptions.SectionName);
        services.AddValidatedSettings<TelemetryOptions>(configuration, TelemetryOptions.SectionName);

        // Exporters are chosen at registration time, so the section is read here as well.
        var telemetry = configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (telemetry.Enabled)
        {
            services.AddOpenTelemetry().WithMetrics(metrics =>
            {
                metrics.AddMeter("KdData.*");
                if (telemetry.OtlpEndpoint is { } endpoint)
                {
                    metrics.AddOtlpExporter((exporter, reader) =>
                    {
                        exporter.Endpoint = new Uri(endpoint);
                        reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)telemetry.ExportInterval.TotalMilliseconds;
                    });
                }

                if (telemetry.Console)
                {
                    metrics.AddConsoleExporter((_, reader) => reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = (int)telemetry.ExportInterval.TotalMilliseconds);
                }
            });
        }

        return services;
    }
}
