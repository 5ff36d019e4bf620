using KdData.Evaluation;
using KdData.Records;

namespace KdData.Export;

/// <summary>
/// What <c>kddata-trainer export</c> wrote and measured: <c>export.json</c>, also the model card's source. Written and
/// read with <see cref="RecordJson"/>.
/// Members with a default are settable rather than init-only so that JSON missing them reads the default:
/// System.Text.Json's source generator does not run initializers of init-only properties (dotnet/runtime#84484).
/// </summary>
public sealed record ExportReport
{
    /// <summary>File name of the report in the export folder.</summary>
    public const string FileName = "export.json";

    /// <summary>The layout version this build writes.</summary>
    public const int CurrentFormatVersion = 1;

    /// <summary>Layout version; absent in reports written before it was recorded (= <see cref="RecordFormat.Legacy"/>).</summary>
    public int FormatVersion { get; set; } = RecordFormat.Legacy;

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>The checkpoint record exported (as given).</summary>
    public required string Checkpoint { get; init; }

    /// <summary>First 16 hex digits of the checkpoint weights' SHA-256 (the id a Labeler names its output after).</summary>
    public required string CheckpointId { get; init; }

    public required string Architecture { get; init; }

    public required long Parameters { get; init; }

    /// <summary>Multiply-accumulates of one image's forward pass (convolutions and linear layers).</summary>
    public required long Macs { get; init; }

    /// <summary>ONNX default-domain opset of <c>model.onnx</c>.</summary>
    public required long Opset { get; init; }

    /// <summary>Input name, shape with the symbolic batch axis first, e.g. <c>input [batch, 1, 28, 28]</c>.</summary>
    public required string Input { get; init; }

    /// <summary>Output name and shape, e.g. <c>logits [batch, 10]</c>.</summary>
    public required string Output { get; init; }

    /// <summary>Files written to the export folder and their sizes in bytes.</summary>
    public required IReadOnlyDictionary<string, long> Files { get; init; }

    public required ExportParity Parity { get; init; }

    /// <summary>Intra-op threads every engine ran with (TorchSharp <c>set_num_threads</c>, ONNX Runtime intra-op).</summary>
    public required int Threads { get; init; }

    /// <summary>Processor count, OS and CPU model of the machine measured on.</summary>
    public required string Machine { get; init; }

    /// <summary>The instruction-set level the figures were measured with (AVX2, AVX-512, VNNI, AMX, NEON): whether the int8 speed-up applies to a reader's CPU.</summary>
    public CpuInstructionSet? InstructionSet { get; init; }

    /// <summary>The int8 model's scheme, overflow check and agreement with fp32 (<c>quantized</c> in the JSON); null without an int8 model.</summary>
    public Int8VariantReport? Quantized { get; init; }

    /// <summary>The data evaluated on; null without a dataset.</summary>
    public EvaluatedData? Data { get; init; }

    /// <summary>Class names in logit order.</summary>
    public IReadOnlyList<string> Classes { get; set; } = [];

    /// <summary>Full metrics of the exported fp32 ONNX model on <see cref="Data"/>; null without a dataset.</summary>
    public ClassificationMetrics? Metrics { get; init; }

    /// <summary>Every variant measured: fp32 TorchSharp, fp32 ONNX Runtime, int8 when present, and the compared ones.</summary>
    public required IReadOnlyList<ExportVariant> Variants { get; init; }

    /// <summary>The lineage recorded in the checkpoint (its record's <c>training.lineage</c>), if any.</summary>
    public LineageRecord? Lineage { get; init; }

    /// <summary>Store location the export was published to; null when not published.</summary>
    public string? PublishedTo { get; init; }
}
