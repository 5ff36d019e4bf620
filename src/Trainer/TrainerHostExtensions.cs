using KdData.Augmentation;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Objectives;
using KdData.Training;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>Registers each Trainer command's job and its settings (validated at start: a bad one is exit 2).</summary>
public static class TrainerHostExtensions
{
    public static HostApplicationBuilder AddTeacherJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<TrainerOptions>(TrainerOptions.SectionName);
        builder.AddValidatedOptions<TrainingDataOptions>(TrainingDataOptions.SectionName);
        builder.AddValidatedOptions<TrainingLoopOptions>(TrainingLoopOptions.SectionName);
        builder.Services.AddHostedService<TeacherJob>();
        return builder;
    }

    public static HostApplicationBuilder AddDistillJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<DistillOptions>(DistillOptions.SectionName);
        // The loop's settings (epochs, batch size, optimizer, ...) sit in the same section as the stage's own.
        builder.AddValidatedOptions<TrainingLoopOptions>(DistillOptions.SectionName);
        builder.AddDistillationDataOptions();
        // The representation-KD terms are subsections of the objective's section (Trainer:Objective:Hint, ...).
        builder.AddValidatedOptions<RepresentationOptions>(ObjectiveOptions.SectionName);
        builder.AddValidatedOptions<DistillationAugmentOptions>(DistillationAugmentOptions.SectionName);
        builder.Services.AddHostedService<DistillJob>();
        return builder;
    }

    public static HostApplicationBuilder AddSweepJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Each point's own distill host validates the distill settings; the sweep checks them for every point at start.
        builder.AddValidatedOptions<SweepOptions>(SweepOptions.SectionName);
        builder.Services.AddHostedService<SweepJob>();
        return builder;
    }

    public static HostApplicationBuilder AddPruneJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<PruneOptions>(PruneOptions.SectionName);
        // The fine-tune's loop settings sit in the stage's section; its data and objective are the distill stage's.
        builder.AddValidatedOptions<TrainingLoopOptions>(PruneOptions.SectionName);
        builder.AddDistillationDataOptions();
        builder.Services.AddHostedService<PruneJob>();
        return builder;
    }

    public static HostApplicationBuilder AddSelfTrainJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<SelfTrainOptions>(SelfTrainOptions.SectionName);
        builder.AddValidatedOptions<TrainingDataOptions>(TrainingDataOptions.SectionName);
        builder.Services.AddHostedService<SelfTrainJob>();
        return builder;
    }

    public static HostApplicationBuilder AddPipelineJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        // Each stage's own host validates its settings when it starts; the pipeline checks its own and the dataset.
        builder.AddValidatedOptions<PipelineOptions>(PipelineOptions.SectionName);
        builder.AddValidatedOptions<TrainingDataOptions>(TrainingDataOptions.SectionName);
        builder.Services.AddHostedService<PipelineJob>();
        return builder;
    }

    public static HostApplicationBuilder AddImportJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<ImportOptions>(ImportOptions.SectionName);
        builder.Services.AddHostedService<ImportJob>();
        return builder;
    }

    public static HostApplicationBuilder AddEvaluateJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<EvaluateOptions>(EvaluateOptions.SectionName);
        builder.AddValidatedOptions<TrainingDataOptions>(TrainingDataOptions.SectionName);
        builder.Services.AddHostedService<EvaluateJob>();
        return builder;
    }

    public static HostApplicationBuilder AddEnsembleJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<EnsembleOptions>(EnsembleOptions.SectionName);
        builder.Services.AddHostedService<EnsembleJob>();
        return builder;
    }

    public static HostApplicationBuilder AddQuantizeJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<QuantizeOptions>(QuantizeOptions.SectionName);
        // QAT: its own loop settings, and the distill stage's data, objective, shards and batch mixing.
        builder.AddValidatedOptions<TrainingLoopOptions>(QuantizeOptions.QatSectionName);
        builder.AddDistillationDataOptions();
        builder.Services.AddHostedService<QuantizeJob>();
        return builder;
    }

    public static HostApplicationBuilder AddExportJob(this HostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.AddValidatedOptions<ExportOptions>(ExportOptions.SectionName);
        builder.AddValidatedOptions<TrainingDataOptions>(TrainingDataOptions.SectionName);
        builder.Services.AddHostedService<ExportJob>();
        return builder;
    }

    /// <summary>
    /// The settings <see cref="DistillationInputs"/> reads: the data, objective, shard selection and batch mix (distill,
    /// prune, QAT), each validated, and the <see cref="DistillationDataSettings"/> that hands them to the job as one.
    /// </summary>
    private static void AddDistillationDataOptions(this HostApplicationBuilder builder)
    {
        builder.AddValidatedOptions<TrainingDataOptions>(TrainingDataOptions.SectionName);
        builder.AddValidatedOptions<ObjectiveOptions>(ObjectiveOptions.SectionName);
        builder.AddValidatedOptions<ShardSelectionOptions>(ShardSelectionOptions.SectionName);
        builder.AddValidatedOptions<DistillationMixOptions>(DistillationMixOptions.SectionName);
        builder.Services.AddSingleton(services => new DistillationDataSettings
        {
            Data = services.GetRequiredService<IOptions<TrainingDataOptions>>().Value,
            ObjectiveOptions = services.GetRequiredService<IOptions<ObjectiveOptions>>().Value,
            Shards = services.GetRequiredService<IOptions<ShardSelectionOptions>>().Value,
            Mix = services.GetRequiredService<IOptions<DistillationMixOptions>>().Value,
            Images = services.GetRequiredService<IOptions<ImageOptions>>().Value,
        });
    }

    private static void AddValidatedOptions<TOptions>(this HostApplicationBuilder builder, string section)
        where TOptions : class =>
        builder.Services.AddValidatedSettings<TOptions>(builder.Configuration, section);
}
