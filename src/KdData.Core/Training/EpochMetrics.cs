using System.Text.Json.Serialization;

namespace KdData.Training;

/// <summary>
/// One line of <c>metrics.jsonl</c>: the results of one completed epoch. Training loss is the optimized
/// objective (with label smoothing) averaged over the epoch's samples while the weights were changing;
/// evaluation loss is the plain cross-entropy of the epoch's final weights on the held-out data.
/// </summary>
public sealed record EpochMetrics
{
    /// <summary>1-based epoch number.</summary>
    [JsonPropertyName("epoch")]
    public required int Epoch { get; init; }

    [JsonPropertyName("train_loss")]
    public required double TrainLoss { get; init; }

    [JsonPropertyName("train_accuracy")]
    public required double TrainAccuracy { get; init; }

    [JsonPropertyName("eval_loss")]
    public required double EvalLoss { get; init; }

    [JsonPropertyName("eval_accuracy")]
    public required double EvalAccuracy { get; init; }

    /// <summary>Learning rate of the epoch's last step.</summary>
    [JsonPropertyName("lr")]
    public required double LearningRate { get; init; }

    /// <summary>Wall-clock seconds of the epoch, training and evaluation.</summary>
    [JsonPropertyName("seconds")]
    public required double Seconds { get; init; }

    /// <summary>Training samples per second (training steps only).</summary>
    [JsonPropertyName("images_per_second")]
    public required double ImagesPerSecond { get; init; }
}
