using KdData.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Evaluation;

/// <summary>
/// Runs models over evaluation data and collects their logits. Each model is switched to eval mode
/// (batch-norm running statistics, no dropout) for the pass and put back in the mode it was in, so a
/// training loop can call this between epochs. Every batch runs synchronously under <c>no_grad</c> in its
/// own dispose scope (both are per thread, so neither may span an <c>await</c>); the logits are copied out
/// as floats and the tensors freed before the next batch is awaited.
/// </summary>
public sealed class Evaluator
{
    private readonly Device _device;

    /// <param name="device">Where the models are; inputs are moved there. Default: the CPU.</param>
    public Evaluator(Device? device = null)
    {
        _device = device ?? CPU;
    }

    /// <summary>One model's logits on epoch 1 of <paramref name="data"/> (an evaluation source: no shuffling).</summary>
    public async Task<ModelOutputs> RunAsync(nn.Module<Tensor, Tensor> model, ITrainingData data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(model);
        var outputs = await RunAsync([model], data, cancellationToken).ConfigureAwait(false);
        return outputs[0];
    }

    /// <summary>
    /// Several models on the same batches (e.g. a student and its teacher), so their rows line up even if the
    /// data skips unreadable images. All returned outputs share one <see cref="ModelOutputs.Labels"/> array.
    /// </summary>
    public async Task<IReadOnlyList<ModelOutputs>> RunAsync(IReadOnlyList<nn.Module<Tensor, Tensor>> models, ITrainingData data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(models);
        ArgumentNullException.ThrowIfNull(data);
        if (models.Count == 0)
        {
            throw new ArgumentException("At least one model is needed.", nameof(models));
        }

        var wasTraining = models.Select(m => m.training).ToArray();
        var logits = models.Select(_ => new List<float>()).ToArray();
        var classes = new int[models.Count];
        var labels = new List<long>();
        foreach (var model in models)
        {
            model.eval();
        }

        try
        {
            await foreach (var batch in data.ReadEpochAsync(1, cancellationToken).ConfigureAwait(false))
            {
                for (var m = 0; m < models.Count; m++)
                {
                    var rows = Forward(models[m], batch);
                    var width = rows.Length / batch.Count;
                    if (classes[m] != 0 && width != classes[m])
                    {
                        throw new InvalidDataException($"Model {m} produced {width} logits per sample after producing {classes[m]}.");
                    }

                    classes[m] = width;
                    logits[m].AddRange(rows);
                }

                labels.AddRange(batch.Labels);
            }
        }
        finally
        {
            for (var m = 0; m < models.Count; m++)
            {
                models[m].train(wasTraining[m]);
            }
        }

        var labelArray = labels.ToArray();
        return [.. Enumerable.Range(0, models.Count).Select(m => new ModelOutputs([.. logits[m]], labelArray, classes[m]))];
    }

    // Synchronous: the dispose scope and no_grad are per thread and must not span an await.
    private float[] Forward(nn.Module<Tensor, Tensor> model, LabeledBatch batch)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var input = tensor(batch.Pixels, [batch.Count, batch.Channels, batch.Height, batch.Width]);
        if (_device.type != DeviceType.CPU)
        {
            input = input.to(_device);
        }

        var output = model.call(input).to(CPU).to_type(ScalarType.Float32).contiguous();
        if (output.dim() != 2 || output.shape[0] != batch.Count)
        {
            throw new InvalidDataException($"The model returned logits of shape [{string.Join(", ", output.shape)}] for {batch.Count} images; expected [{batch.Count}, classes].");
        }

        return output.data<float>().ToArray();
    }
}
