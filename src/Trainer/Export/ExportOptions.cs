using System.ComponentModel.DataAnnotations;
using System.Globalization;
using KdData.Evaluation;
using KdData.Hosting;

namespace KdData.Trainer;

/// <summary>The <c>export</c> command. Bound from the <c>Export</c> section.</summary>
public sealed class ExportOptions
{
    public const string SectionName = "Trainer:Export";

    /// <summary>Checkpoint record to export (a local path). Default <c>out/student/best.json</c>, what <c>distill</c> writes.</summary>
    [Required]
    public string Checkpoint { get; set; } = "out/student/best.json";

    /// <summary>
    /// Folder for <c>model.onnx</c>, <c>model.safetensors</c> + <c>model.json</c>, <c>export.json</c>, <c>model-card.md</c>
    /// and the charts. Default <c>out/export</c>.
    /// </summary>
    [Required]
    public string Output { get; set; } = "out/export";

    /// <summary>
    /// Store location (<c>file:</c> folder, <c>az://</c> or <c>https://</c> blob prefix) to copy the export to, so the
    /// Labeler can use it as a teacher (<c>--Labeler:Teacher &lt;location&gt;model.json</c>). Default none.
    /// </summary>
    public string? Publish { get; set; }

    /// <summary>Dataset root location to evaluate on (accuracy, per class, confusion, ECE; parity images). Default none.</summary>
    public string? Dataset { get; set; }

    /// <summary>Split evaluated; empty for every row. Default <c>test</c>.</summary>
    public string Split { get; set; } = "test";

    /// <summary>Measure latency (P50/P95/P99, throughput) and peak memory of every variant. Default true.</summary>
    public bool Measure { get; set; } = true;

    /// <summary>Intra-op threads of every engine while measuring (TorchSharp and ONNX Runtime). Default 1.</summary>
    [Range(1, 256)]
    public int Threads { get; set; } = 1;

    /// <summary>Batch sizes timed, comma-separated. Default <c>1,64</c>.</summary>
    [Required]
    public string LatencyBatchSizes { get; set; } = "1,64";

    /// <summary>Untimed calls before timing each batch size. Default 20.</summary>
    [Range(0, 100_000)]
    public int Warmup { get; set; } = 20;

    /// <summary>Timed calls per batch size (enough for a stable P99: at least 100 is advised). Default 200.</summary>
    [Range(1, 1_000_000)]
    public int Iterations { get; set; } = 200;

    /// <summary>
    /// The int8 ONNX model to measure beside the fp32 one. Default none: <c>model.int8.onnx</c> in <see cref="Output"/>
    /// or beside the checkpoint is used when present.
    /// </summary>
    public string? Int8Model { get; set; }

    /// <summary>
    /// Other variants to put in the table and charts, comma-separated: checkpoint records (<c>.json</c>, e.g. a pruned
    /// or QAT student) or ONNX models (<c>.onnx</c>). Default none.
    /// </summary>
    public string? Compare { get; set; }

    /// <summary>
    /// Words put before the exported model's variant names in the table and charts, e.g. <c>pruned</c> -> "pruned fp32
    /// TorchSharp" (the pipeline names the stage so the charts tell the student, pruned and int8 points apart). Default none.
    /// </summary>
    public string? VariantPrefix { get; set; }

    /// <summary>Precision word of the int8 variant's name, e.g. <c>int8 QAT</c> -> "int8 QAT ONNX Runtime". Default <c>int8</c>.</summary>
    [Required(AllowEmptyStrings = false)]
    public string Int8Label { get; set; } = "int8";

    /// <summary>
    /// Least top-1 agreement of the int8 model with the fp32 ONNX model on the evaluated split (with <see cref="Dataset"/>),
    /// in [0, 1]. Under it the export writes its files locally but does not publish, and exits 5 naming the figure, unless
    /// <see cref="AcceptLowInt8Agreement"/>. Without a dataset, an int8 model with 8-bit weights measured on a CPU
    /// without VNNI (where they overflow) is stopped the same way. Default 0.98.
    /// </summary>
    [Range(0.0, 1.0)]
    public double MinInt8Agreement { get; set; } = KdData.Quantization.Int8AgreementCheck.DefaultMinimum;

    /// <summary>Keep and publish an int8 model that fails the check above (recorded in <c>export.json</c> and the card). Default false.</summary>
    public bool AcceptLowInt8Agreement { get; set; }

    /// <summary>Largest allowed |ONNX - TorchSharp| logit difference; a larger one fails the export (exit 1). Default 1e-4.</summary>
    [Range(0.0, 1.0)]
    public double ParityTolerance { get; set; } = 1e-4;

    /// <summary>Images per forward pass when evaluating. Default 256.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>Equal-width confidence bins of the expected calibration error. Default 15.</summary>
    [Range(1, 1000)]
    public int CalibrationBins { get; set; } = ClassificationMetrics.DefaultCalibrationBins;

    /// <summary><see cref="LatencyBatchSizes"/> as numbers (a method: validation reads every property, even of an invalid value).</summary>
    /// <exception cref="InvalidInputException">Not comma-separated batch sizes between 1 and 65536 (exit 2).</exception>
    public int[] ParseLatencyBatchSizes()
    {
        var parts = LatencyBatchSizes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var sizes = parts.Select(p => int.TryParse(p, NumberStyles.None, CultureInfo.InvariantCulture, out var n) ? n : 0).ToArray();
        return sizes.Length > 0 && sizes.All(n => n is >= 1 and <= 65536)
            ? sizes
            : throw new InvalidInputException($"Trainer:Export:LatencyBatchSizes '{LatencyBatchSizes}' must be comma-separated batch sizes between 1 and 65536, e.g. 1,64.");
    }
}
