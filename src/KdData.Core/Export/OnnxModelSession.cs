using Microsoft.ML.OnnxRuntime;

namespace KdData.Export;

/// <summary>
/// An ONNX Runtime (CPU) inference session over an exported classifier: float32 images in, logits out. The thread
/// count is fixed at creation (intra-op threads; inter-op 1, sequential execution) so latency figures say what they
/// were measured with. Not thread-safe: one caller runs <see cref="Run"/> at a time.
/// </summary>
public sealed class OnnxModelSession : IDisposable
{
    private readonly SessionOptions _sessionOptions;
    private readonly InferenceSession _session;
    private readonly RunOptions _runOptions = new();
    private readonly string[] _inputNames;
    private readonly string[] _outputNames;

    /// <param name="model">The model's bytes (an <c>.onnx</c> file's contents).</param>
    /// <param name="threads">Intra-op threads; at least 1.</param>
    /// <param name="optimize">
    /// All graph optimizations (default). False runs the graph node by node as written: a QDQ int8 model then computes
    /// in float (QuantizeLinear, DequantizeLinear, float Conv), without the fused integer kernels, which makes it the
    /// CPU-independent reference of what that int8 model defines.
    /// </param>
    public OnnxModelSession(byte[] model, int threads, bool optimize = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        _sessionOptions = new SessionOptions
        {
            IntraOpNumThreads = threads,
            InterOpNumThreads = 1,
            ExecutionMode = ExecutionMode.ORT_SEQUENTIAL,
            GraphOptimizationLevel = optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
        };
        try
        {
            _session = new InferenceSession(model, _sessionOptions);
        }
        catch
        {
            _sessionOptions.Dispose();
            throw;
        }
        _inputNames = [_session.InputNames[0]];
        _outputNames = [_session.OutputNames[0]];
        var shape = _session.InputMetadata[_inputNames[0]].Dimensions;
        InputShape = shape;
        Threads = threads;
    }

    /// <summary>The model's input dims as declared (-1 for the dynamic batch axis).</summary>
    public IReadOnlyList<int> InputShape { get; }

    /// <summary>Intra-op threads the session runs with.</summary>
    public int Threads { get; }

    /// <summary>The input's name.</summary>
    public string InputName => _inputNames[0];

    /// <summary>The output's name.</summary>
    public string OutputName => _outputNames[0];

    /// <summary>
    /// Logits of <paramref name="count"/> images laid out contiguously in <paramref name="pixels"/> (each
    /// C x H x W, as the model's input declares); count x classes values, row-major.
    /// </summary>
    public float[] Run(ReadOnlyMemory<float> pixels, int count)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(count, 1);
        long perImage = 1;
        for (var i = 1; i < InputShape.Count; i++)
        {
            perImage *= InputShape[i];
        }
        if (pixels.Length < count * perImage)
        {
            throw new ArgumentException($"{count} images need {count * perImage} values; got {pixels.Length}.", nameof(pixels));
        }

        long[] dims = [count, .. InputShape.Skip(1).Select(d => (long)d)];
        // Copies the slice once: OrtValue pins a managed array (not a ReadOnlyMemory) for the run.
        var buffer = pixels[..(int)(count * perImage)].ToArray();
        using var input = OrtValue.CreateTensorValueFromMemory(buffer, dims);
        using var outputs = _session.Run(_runOptions, _inputNames, [input], _outputNames);
        return outputs[0].GetTensorDataAsSpan<float>().ToArray();
    }

    public void Dispose()
    {
        _session.Dispose();
        _sessionOptions.Dispose();
        _runOptions.Dispose();
    }
}
