using KdData.Models;

namespace KdData.Training;

/// <summary>What to train, on what, and where the checkpoints and metrics go.</summary>
public sealed record TrainingJob
{
    /// <summary>Architecture of the model; written into every checkpoint record. Required.</summary>
    public required ModelSpec Architecture { get; init; }

    /// <summary>Training batches (shuffled per epoch). Required.</summary>
    public required ITrainingData Train { get; init; }

    /// <summary>Held-out batches evaluated after each epoch (epoch number ignored). Required.</summary>
    public required ITrainingData Eval { get; init; }

    /// <summary>
    /// Directory of <c>metrics.jsonl</c> and the <c>last</c>/<c>best</c> checkpoints; a run finding a
    /// <c>last</c> checkpoint there resumes from it. Required.
    /// </summary>
    public required string OutputDirectory { get; init; }

    /// <summary>Class names in logit order, copied into the records. Default empty.</summary>
    public IReadOnlyList<string> Classes { get; init; } = [];

    /// <summary>Preprocessing the batches went through, copied into the records. Default <c>null</c>.</summary>
    public PreprocessingRecord? Preprocessing { get; init; }
}
