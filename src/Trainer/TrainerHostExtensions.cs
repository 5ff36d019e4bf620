using KdData.Distillation;
using KdData.Hosting;
using KdData.Objectives;
using KdData.Training;

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
            case TrainerCommandLine.Teacher:
                builder.Services.AddOptions<TrainerOptions>().Bind(builder.Configuration.GetSection(TrainerOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddOptions<TrainingDataOptions>().Bind(builder.Configuration.GetSection(TrainingDataOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddOptions<TrainingLoopOptions>().Bind(builder.Configuration.GetSection(TrainingLoopOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddHostedService<TeacherJob>();
                break;
            case TrainerCommandLine.Distill:
                builder.Services.AddOptions<DistillOptions>().Bind(builder.Configuration.GetSection(DistillOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddOptions<TrainingLoopOptions>().Bind(builder.Configuration.GetSection(DistillOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddOptions<TrainingDataOptions>().Bind(builder.Configuration.GetSection(TrainingDataOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddOptions<ObjectiveOptions>().Bind(builder.Configuration.GetSection(ObjectiveOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddOptions<ShardSelectionOptions>().Bind(builder.Configuration.GetSection(ShardSelectionOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddOptions<DistillationMixOptions>().Bind(builder.Configuration.GetSection(DistillationMixOptions.SectionName)).ValidateDataAnnotations().ValidateOnStart();
                builder.Services.AddHostedService<DistillJob>();
                break;
            default:
                throw new ArgumentException($"Unknown command '{command}'.", nameof(command));
        }

        return builder;
    }
}
