using Google.Protobuf;
using Microsoft.ML.OnnxRuntime;
using Onnx;

namespace KdData.Quantization;

/// <summary>
/// Runs an ONNX model in ONNX Runtime (CPU, all graph optimizations, so QDQ pairs are fused into int8 kernels) on
/// batches of preprocessed images and returns the requested outputs. Not thread-safe.
/// </summary>
public sealed class OnnxBatchRunner : IDisposable
{
    private readonly InferenceSession _session;
    private readonly SessionOptions _options;
    private readonly RunOptions _run = new();

    /// <param name="model">The model.</param>
    /// <param name="threads">Intra-op threads (0 = ONNX Runtime's choice).</param>
    /// <param name="optimize">
    /// True (default): all graph optimizations, so a QDQ model runs on integer kernels. False: none, so each
    /// DequantizeLinear feeds a float operator and the QDQ graph is computed in float: the reference the integer
    /// kernels must agree with, on any CPU.
    /// </param>
    public OnnxBatchRunner(ModelProto model, int threads = 0, bool optimize = true)
    {
        ArgumentNullException.ThrowIfNull(model);
        _options = new SessionOptions
        {
            GraphOptimizationLevel = optimize ? GraphOptimizationLevel.ORT_ENABLE_ALL : GraphOptimizationLevel.ORT_DISABLE_ALL,
            IntraOpNumThreads = threads,
        };
        _session = new InferenceSession(model.ToByteArray(), _options);
        InputName = _session.InputNames[0];
        OutputName = _session.OutputNames[0];
    }

    /// <summary>The model's (first) input.</summary>
    public string InputName { get; }

    /// <summary>The model's first output (the logits).</summary>
    public string OutputName { get; }

    /// <summary>The outputs named <paramref name="outputs"/> for <paramref name="count"/> images (row-major C x H x W each).</summary>
    public float[][] Run(float[] pixels, int count, int channels, int height, int width, IReadOnlyList<string> outputs)
    {
        ArgumentNullException.ThrowIfNull(pixels);
        ArgumentNullException.ThrowIfNull(outputs);
        using var input = OrtValue.CreateTensorValueFromMemory(pixels, [count, channels, height, width]);
        using var results = _session.Run(_run, [InputName], [input], [.. outputs]);
        var values = new float[outputs.Count][];
        for (var i = 0; i < outputs.Count; i++)
        {
            values[i] = results[i].GetTensorDataAsSpan<float>().ToArray();
        }
        return values;
    }

    /// <summary>The logits (first output) of a batch.</summary>
    public float[] Logits(float[] pixels, int count, int channels, int height, int width) =>
        Run(pixels, count, channels, height, width, [OutputName])[0];

    public void Dispose()
    {
        _session.Dispose();
        _run.Dispose();
        _options.Dispose();
    }
}
