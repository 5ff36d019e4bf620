using KdData.Hosting;

namespace KdData.Labeler;

/// <summary>Registers the Labeler job and its settings.</summary>
public static class LabelerHostExtensions
{
    public static HostApplicationBuilder AddLabeler(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddKdDataCore(builder.Configuration);
        builder.Services.AddOptions<LabelerOptions>()
            .Bind(builder.Configuration.GetSection(LabelerOptions.SectionName))
            .ValidateDataAnnotations()
            .ValidateOnStart();
        builder.Services.AddHostedService<InventoryJob>();
        return builder;
    }
}
