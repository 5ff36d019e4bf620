using KdData.Hosting;
using KdData.Labeling;

namespace KdData.Labeler;

/// <summary>Registers the Labeler job and its settings.</summary>
public static class LabelerHostExtensions
{
    public static HostApplicationBuilder AddLabeler(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddKdDataCore(builder.Configuration);
        builder.Services.AddValidatedSettings<LabelingOptions>(builder.Configuration, LabelingOptions.SectionName);
        builder.Services.AddValidatedSettings<PartitionOptions>(builder.Configuration, PartitionOptions.SectionName);
        builder.Services.AddHostedService<LabelerJob>();
        return builder;
    }
}
