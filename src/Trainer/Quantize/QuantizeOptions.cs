using System.ComponentModel.DataAnnotations;
using KdData.Evaluation;
using KdData.Quantization;

namespace KdData.Trainer;

/// <summary>
/// The <c>quantize</c> command, bound from the <c>Quantize</c> section; images come from <c>Trainer:Data:Dataset</c>
/// with the checkpoint's own preprocessing.
/// </summary>
public sealed class QuantizeOptions
{
    public const string SectionName = "Trainer:Quantize";

    /// <summary>Section of the QAT training loop's settings (<see cref="Training.TrainingLoopOptions"/>).</summary>
    public const string QatSectionName = "Trainer:Quantize:Qat";

    /// <summary>Post-training quantization.</summary>
    public const string Ptq = "ptq";

    /// <summary>Quantization-aware training with KD, then the same QDQ export.</summary>
    public const string Qat = "qat";

    /// <summary>The fp32 checkpoint record to quantize (a local path). Default <c>out/student/last.json</c>, what <c>distill</c> writes.</summary>
    [Required]
    public string Checkpoint { get; set; } = "out/student/last.json";

    /// <summary>Folder for <c>model.fp32.onnx</c>, <c>model.int8.onnx</c> and <c>quantization.json</c>. Default <c>out/quantized</c>.</summary>
    [Required]
    public string Output { get; set; } = "out/quantized";

    /// <summary><c>ptq</c> (default) or <c>qat</c>.</summary>
    [Required]
    [RegularExpression("^(ptq|qat)$", ErrorMessage = "Trainer:Quantize:Method must be 'ptq' or 'qat'.")]
    public string Method { get; set; } = Ptq;

    /// <summary>How activation ranges are calibrated: <c>minmax</c> (default), <c>percentile</c> or <c>entropy</c> (case-insensitive).</summary>
    [Required]
    [RegularExpression("^(?i:minmax|percentile|entropy)$", ErrorMessage = "Trainer:Quantize:Calibration must be 'minmax', 'percentile' or 'entropy'.")]
    public string Calibration { get; set; } = "minmax";

    /// <summary><see cref="Calibration"/> as the enum (a method: validation reads every property, even of an invalid value).</summary>
    public CalibrationMethod ParseCalibration() => Enum.Parse<CalibrationMethod>(Calibration, ignoreCase: true);

    /// <summary>
    /// Significant bits of the int8 weight codes: 7 (default; codes -64..64) or 8 (codes -127..127). 7-bit weights are
    /// right on every CPU; 8-bit ones overflow the int16 pair sum of x86 CPUs without VNNI (AVX2, AVX-512 without VNNI)
    /// and compute wrong results there, so choose 8 only for a model that runs on VNNI, AMX or ARM CPUs alone.
    /// </summary>
    [Range(7, 8)]
    public int WeightBits { get; set; } = QuantizationParameters.DefaultWeightBits;

    /// <summary>
    /// Least top-1 agreement of the int8 model with the fp32 one on <see cref="EvalSplit"/>, in [0, 1]. Under it the
    /// command writes its files but exits 5 naming the figure, unless <see cref="AcceptLowAgreement"/>. Default 0.98.
    /// </summary>
    [Range(0.0, 1.0)]
    public double MinAgreement { get; set; } = Int8AgreementCheck.DefaultMinimum;

    /// <summary>Keep an int8 model whose agreement is under <see cref="MinAgreement"/> (exit 0, recorded in the report). Default false.</summary>
    public bool AcceptLowAgreement { get; set; }

    /// <summary>Calibration images, drawn (seeded) from the calibration split. Default 512.</summary>
    [Range(1, 1_000_000)]
    public int CalibrationImages { get; set; } = 512;

    /// <summary>Split the calibration images come from. Default <c>train</c> (never the test split the figures are measured on).</summary>
    [Required]
    public string CalibrationSplit { get; set; } = "train";

    /// <summary>Seed of the calibration sample. Default 42.</summary>
    public int Seed { get; set; } = 42;

    /// <summary>Percent of the values kept on each side by the percentile method, in (50, 100]. Default 99.99.</summary>
    [Range(50.000001, 100.0)]
    public double Percentile { get; set; } = PercentileCalibration.DefaultPercentile;

    /// <summary>Histogram bins of the percentile and entropy methods. Default 2048.</summary>
    [Range(256, 1 << 20)]
    public int HistogramBins { get; set; } = ActivationHistogram.DefaultBins;

    /// <summary>Split the fp32 and int8 models are compared on. Default <c>test</c>.</summary>
    [Required]
    public string EvalSplit { get; set; } = "test";

    /// <summary>Images per ONNX Runtime run. Default 256.</summary>
    [Range(1, 65536)]
    public int BatchSize { get; set; } = 256;

    /// <summary>ONNX Runtime intra-op threads (0 = its choice). Default 0.</summary>
    [Range(0, 1024)]
    public int Threads { get; set; }

    /// <summary>
    /// QAT: EMA momentum m of the activation ranges (r ← (1 - m)·r + m·r_batch), in (0, 1]. Default 0.01. The QAT
    /// loop's own settings (epochs, batch size, learning rate, ...) are bound from <c>Trainer:Quantize:Qat</c>.
    /// </summary>
    [Range(1e-6, 1.0)]
    public double RangeMomentum { get; set; } = QatConvNet.DefaultMomentum;

    /// <summary>Equal-width confidence bins of the expected calibration error. Default 15.</summary>
    [Range(1, 1000)]
    public int CalibrationBins { get; set; } = ClassificationMetrics.DefaultCalibrationBins;
}
