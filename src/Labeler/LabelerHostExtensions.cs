using KdData.Hosting;
using KdData.Labeling;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace KdData.Labeler;

/// <summary>Registers the Labeler job, its settings and its clock (<see cref="TimeProvider.System"/> unless one is registered already).</summary>
public static class LabelerHostExtensions
{
    public static HostApplicationBuilder AddLabeler(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddKdDataCore(builder.Configuration);
        builder.Services.AddValidatedSettings<LabelingOptions>(builder.Configuration, LabelingOptions.SectionName);
        builder.Services.AddValidatedSettings<PartitionOptions>(builder.Configuration, PartitionOptions.SectionName);
        // Lease timing, commit intervals and outage probes read this clock; tests put a fake one in its place.
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddHostedService<LabelerJob>();
        return builder;
    }
}
