using System.Diagnostics;
using KdData.Storage;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// The teacher network, loaded from a checkpoint in any store, ready for inference. Its
/// <see cref="Id"/> (the first 16 hex digits of the weights' SHA-256) names the output folder, so
/// a different teacher never mixes its labels with another's.
/// Not thread-safe: one consumer thread runs <see cref="Forward"/>.
/// </summary>
public sealed class InferenceModel : IDisposable
{
    private readonly Checkpoint _checkpoint;
    private readonly Device _device;

    private InferenceModel(Checkpoint checkpoint, Device device, string source)
    {
        _checkpoint = checkpoint;
        _device = device;
        Source = source;
        _checkpoint.Model.eval();
    }

    /// <summary>Where the checkpoint came from.</summary>
    public string Source { get; }

    /// <summary>What the checkpoint says it is.</summary>
    public CheckpointRecord Record => _checkpoint.Record;

    /// <summary>Short, stable identity: 16 hex digits of the weights' SHA-256.</summary>
    public string Id => (Record.WeightsSha256 ?? throw new InvalidDataException($"Teacher checkpoint '{Source}' has no weights SHA-256."))[..16];

    /// <summary>
    /// The network itself (eval mode), for callers that run it inside their own dispose and grad scopes: the online
    /// teacher of distillation, whose outputs feed a loss within the training step's scope.
    /// </summary>
    public nn.Module<Tensor, Tensor> Network => _checkpoint.Model;

    /// <summary>Number of classes the teacher predicts.</summary>
    public int ClassCount => Record.Architecture.NumClasses;

    /// <summary>
    /// Loads the checkpoint whose record is at <paramref name="recordLocation"/>: a path
    /// (<c>samples/x/teacher.json</c>) or a location URL (<c>file:</c>, <c>az://</c>, <c>https://</c>); the weights sit beside it.
    /// </summary>
    public static async Task<InferenceModel> LoadAsync(ObjectStoreFactory stores, string recordLocation, Device device, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(recordLocation);
        var location = recordLocation.Contains("://", StringComparison.Ordinal) || recordLocation.StartsWith("file:", StringComparison.Ordinal) || Path.IsPathRooted(recordLocation)
            ? recordLocation
            : "file:" + recordLocation;
        var slash = location.LastIndexOf('/');
        if (slash < 0 || slash == location.Length - 1)
        {
            throw new ArgumentException($"Labeler:Teacher '{recordLocation}' must name a checkpoint record file, e.g. samples/fashion-mnist/teacher/teacher.json.", nameof(recordLocation));
        }

        var store = stores.Open(location[..(slash + 1)]);
        var recordKey = location[(slash + 1)..];
        byte[] recordJson;
        try
        {
            recordJson = await store.ReadAllBytesAsync(recordKey, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException e)
        {
            throw new FileNotFoundException($"Teacher checkpoint record '{recordLocation}' does not exist.", recordLocation, e);
        }

        var record = CheckpointSerializer.ParseRecord(recordJson);
        var weightsKey = Path.GetFileName(CheckpointSerializer.WeightsPathFor(recordKey, record.WeightsFormat));
        var weights = await store.ReadAllBytesAsync(weightsKey, cancellationToken).ConfigureAwait(false);
        var checkpoint = CheckpointSerializer.Decode(weights, recordJson, device);
        return new InferenceModel(checkpoint, device, recordLocation);
    }

    /// <summary>
    /// Logits for <paramref name="count"/> preprocessed images laid out contiguously in
    /// <paramref name="pixels"/> (each C x H x W); returns count x classes values, row-major.
    /// Runs under inference mode with a dispose scope, synchronously on the calling thread.
    /// </summary>
    public float[] Forward(float[] pixels, int count, int channels, int height, int width)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        Debug.Assert(pixels.Length >= count * channels * height * width, "pixel buffer too small");
        using var scope = NewDisposeScope();
        using var mode = inference_mode();
        var input = tensor(pixels, [count, channels, height, width]).to(_device);
        var logits = _checkpoint.Model.forward(input).to(CPU).to_type(ScalarType.Float32);
        return logits.data<float>().ToArray();
    }

    public void Dispose() => _checkpoint.Dispose();
}
