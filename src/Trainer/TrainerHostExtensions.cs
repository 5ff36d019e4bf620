using KdData.Hosting;

namespace KdData.Trainer;

/// <summary>Registers the Trainer's job for a command, and its settings.</summary>
public static class TrainerHostExtensions
{
    public static HostApplicationBuilder AddTrainer(this HostApplicationBuilder builder, string command)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Services.AddKdDataCore(builder.Configuration);
        switch (command)
        {
            case TrainerCommandLine.Import:
                builder.Services.AddOptions<ImportOptions>().Bind(builder.Configuration.GetSection(ImportOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddHostedService<ImportJob>();
                break;
            default:
                throw new ArgumentException($"Command '{command}' is not available yet.", nameof(command));
        }

        return builder;
    }
}
