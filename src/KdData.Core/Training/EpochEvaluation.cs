using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Training;

/// <summary>
/// The evaluation <see cref="TrainingLoop"/> runs after every epoch: the model in eval mode over the held-out batches,
/// summing the plain (unsmoothed) cross-entropy, the correct predictions and, over the samples with a teacher row,
/// KL(teacher || student) at T = 1 and the arg-max agreements. Its own type because it shares nothing with a training
/// step but the batch tensors (<see cref="LabeledBatchTensors"/>): no optimizer, no objective, no gradients.
/// </summary>
internal static class EpochEvaluation
{
    /// <summary>Evaluates <paramref name="model"/> on the job's evaluation data and puts it back in training mode.</summary>
    /// <exception cref="InvalidDataException">A batch does not fit the model, or the data yielded no samples.</exception>
    public static async Task<EpochTotals> EvaluateAsync(TrainingSetup job, nn.Module<Tensor, Tensor> model, int epoch, Device device)
    {
        model.eval();
        var totals = new EpochTotals();
        try
        {
            // Not cancelled: an epoch whose training finished is worth its evaluation and checkpoint.
            await foreach (var batch in job.Eval.ReadEpochAsync(epoch, CancellationToken.None).ConfigureAwait(false))
            {
                batch.CheckFits(job.Architecture, "evaluation", epoch);
                totals.Add(EvalStep(model, batch, device), batch.Count);
            }
        }
        finally
        {
            model.train();
        }
        if (totals.Samples == 0)
        {
            throw new InvalidDataException($"The evaluation data yielded no samples after epoch {epoch}.");
        }
        return totals;
    }

    // Synchronous on purpose, as the training step: the dispose scope must not span an await, and no_grad is per thread.
    private static EvaluationStepResult EvalStep(nn.Module<Tensor, Tensor> model, LabeledBatch batch, Device device)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var (x, y) = batch.ToTensors(device);
        var logits = model.call(x);
        var lossSum = nn.functional.cross_entropy(logits, y, reduction: nn.Reduction.Sum).item<float>();
        var predicted = logits.argmax(1);
        var correct = predicted.eq(y).sum().item<long>();
        var (teacher, hasTeacher) = batch.TeacherTensors(device);
        if (teacher is null)
        {
            return new EvaluationStepResult(lossSum, correct, 0, 0, 0);
        }

        // KL(p_t || p_s) at T = 1 per sample, and whether the arg-maxes agree, over samples with a teacher row.
        var logPt = nn.functional.log_softmax(teacher, 1);
        var kl = logPt.exp().mul(logPt.sub(nn.functional.log_softmax(logits, 1))).sum(1);
        var agree = predicted.eq(teacher.argmax(1));
        var mask = hasTeacher ?? ones(batch.Count, ScalarType.Bool, device: logits.device);
        var samples = mask.sum().item<long>();
        using var zero = 0.0.ToScalar();
        var klSum = kl.masked_fill(mask.logical_not(), zero).sum().item<float>();
        var agreements = agree.logical_and(mask).sum().item<long>();
        return new EvaluationStepResult(lossSum, correct, samples, klSum, agreements);
    }
}
