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
        builder.Services.AddOptions<LabelingOptions>().Bind(builder.Configuration.GetSection(LabelingOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<PartitionOptions>().Bind(builder.Configuration.GetSection(PartitionOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddHostedService<LabelerJob>();
        return builder;
    }
}
