using KdData.Models;

namespace KdData.Records;

/// <summary>
/// The names of the files that one stage writes and another stage, command or host reads back: the training loop's
/// checkpoints (which <c>evaluate</c>, <c>selftrain</c> and <c>pipeline</c> pick up), the ONNX models <c>quantize</c>
/// writes and <c>export</c> ships, and the checkpoint <c>export</c> publishes for the Labeler. Defined once here so a
/// writer and its readers cannot drift apart. A report file named by the one type that writes and reads it stays with
/// that type (<c>ExportReport.FileName</c>, <c>ModelCardWriter.FileName</c>, <c>EvaluationReport.FileName</c>).
/// Checkpoint names are without extension: <see cref="CheckpointSerializer"/> writes <c>NAME.json</c> beside the
/// weights; <see cref="RecordOf"/> gives the record's file name.
/// </summary>
public static class ArtifactFiles
{
    /// <summary>The training loop's latest state (the resume point): <c>last.json</c>.</summary>
    public const string LastCheckpoint = "last";

    /// <summary>The training loop's epoch with the highest evaluation accuracy: <c>best.json</c>.</summary>
    public const string BestCheckpoint = "best";

    /// <summary>The training loop's per-epoch metrics, one JSON object a line (also read for the learning curves).</summary>
    public const string Metrics = "metrics.jsonl";

    /// <summary><c>prune</c>'s final model, a copy of the last step's fine-tuned checkpoint: <c>pruned.json</c>.</summary>
    public const string PrunedCheckpoint = "pruned";

    /// <summary><c>quantize --method qat</c>'s fp32 weights trained under fake quantization: <c>qat.json</c>.</summary>
    public const string QatCheckpoint = "qat";

    /// <summary>The checkpoint <c>export</c> writes beside the ONNX model and publishes (the Labeler's teacher): <c>model.json</c>.</summary>
    public const string ExportedCheckpoint = "model";

    /// <summary>The exported fp32 ONNX model (BatchNorm folded).</summary>
    public const string Onnx = "model.onnx";

    /// <summary>The int8 QDQ ONNX model <c>quantize</c> writes; <c>export</c> measures and ships it under the same name.</summary>
    public const string Int8Onnx = "model.int8.onnx";

    /// <summary>The fp32 ONNX model <c>quantize</c> writes beside the int8 one (the graph it quantized).</summary>
    public const string Fp32Onnx = "model.fp32.onnx";

    /// <summary><c>quantize</c>'s report (<see cref="QuantizationReport"/>).</summary>
    public const string QuantizationReport = "quantization.json";

    /// <summary>The record file of the checkpoint named <paramref name="checkpoint"/> (<c>last</c> -> <c>last.json</c>).</summary>
    public static string RecordOf(string checkpoint) => checkpoint + CheckpointSerializer.RecordExtension;
}
