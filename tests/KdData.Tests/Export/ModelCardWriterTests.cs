using System.Text.Json;
using KdData.Export;
using KdData.Models;
using KdData.Records;

namespace KdData.Tests.Export;

public sealed class ModelCardWriterTests
{
    [Fact]
    public void Render_DistilledStudentLineage_ListsTeachersShardSetsAndVariants()
    {
        var lineage = JsonSerializer.Deserialize("""
            {"stage":"distill","dataset":"file:data/fashion-mnist/","teachers":["a940680de48e1b40","a940680de48e1b40"],
             "eval_teacher":"out/teacher/last.json",
             "shard_sets":[{"location":"out/labels/teacher=a940680de48e1b40/","teacher_id":"a940680de48e1b40","teacher_source":"out/teacher/last.json","views_per_image":4,"commits":9}]}
            """, RecordJsonContext.Default.LineageRecord)!;
        var record = new CheckpointRecord
        {
            Architecture = new ModelSpec { Name = "convnet", NumClasses = 2, InChannels = 1, Width = 8 },
            Classes = ["cat", "dog"],
            WeightsSha256 = new string('a', 64),
            Training = new TrainingRecord { Lineage = lineage },
        };
        var report = new ExportReport
        {
            CreatedAt = DateTimeOffset.UnixEpoch,
            Checkpoint = "out/student/best.json",
            CheckpointId = "aaaaaaaaaaaaaaaa",
            Architecture = "convnet",
            Parameters = 1234,
            Macs = 5678,
            Opset = 17,
            Input = "input [batch, 1, 28, 28]",
            Output = "logits [batch, 2]",
            Files = new Dictionary<string, long> { ["model.onnx"] = 100 },
            Parity = new ExportParity { Images = 4, Source = "random", MaxAbsDifference = 1e-6, Tolerance = 1e-4, Top1Agreement = 1 },
            Threads = 1,
            Machine = "test machine",
            Classes = ["cat", "dog"],
            Variants =
            [
                new ExportVariant
                {
                    Name = "fp32 ONNX Runtime", Engine = "onnxruntime", Precision = "fp32", File = "/x/model.onnx", FileBytes = 2048, Accuracy = 0.875,
                    Latency = [LatencyMeter.Summarize([1.0, 2.0, 3.0], 1, 0), LatencyMeter.Summarize([10.0, 20.0], 64, 0)],
                },
            ],
            Lineage = lineage,
        };

        var card = ModelCardWriter.Render(report, record, [ModelCardWriter.LatencyChart]);

        Assert.Contains("- Stage: distill", card, StringComparison.Ordinal);
        Assert.Contains("- Teacher ids: `a940680de48e1b40`", card, StringComparison.Ordinal); // repeated ids listed once
        Assert.Contains("| `out/labels/teacher=a940680de48e1b40/` | `a940680de48e1b40` | `out/teacher/last.json` | 4 | 9 |", card, StringComparison.Ordinal);
        Assert.Contains("| fp32 ONNX Runtime | `model.onnx` | 2.0 | 87.50 % | 1 | 2.000 | 3.000 | 3.000 |", card, StringComparison.Ordinal);
        Assert.Contains("| fp32 ONNX Runtime | `model.onnx` | 2.0 | 87.50 % | 64 | 10.000 | 20.000 | 20.000 |", card, StringComparison.Ordinal);
        Assert.Contains("![accuracy vs latency](accuracy-vs-latency.png)", card, StringComparison.Ordinal);
        Assert.Contains("Not evaluated: no dataset was given", card, StringComparison.Ordinal);
    }

    /// <summary>A bare report and record of a two-class convnet, for the int8 parts of the card.</summary>
    private static (ExportReport Report, CheckpointRecord Record) Bare(IReadOnlyList<ExportVariant> variants, Int8VariantReport int8) => (
        new ExportReport
        {
            CreatedAt = DateTimeOffset.UnixEpoch, Checkpoint = "c.json", CheckpointId = "c", Architecture = "convnet", Parameters = 1, Macs = 1, Opset = 17,
            Input = "input", Output = "logits", Files = new Dictionary<string, long>(), Threads = 1, Machine = "m", Variants = variants,
            Parity = new ExportParity { Images = 1, Source = "random", MaxAbsDifference = 0, Tolerance = 1e-4, Top1Agreement = 1 },
            InstructionSet = CpuInstructionSet.FromFeatures(["avx2", "fma"], x86: true),
            Quantized = int8,
        },
        new CheckpointRecord { Architecture = new ModelSpec { Name = "convnet", NumClasses = 2, InChannels = 1 }, Training = new TrainingRecord() });

    [Fact]
    public void Render_Int8SlowerThanFp32OnAnAvx2Cpu_SaysSoPlainlyWithSchemeAndCpu()
    {
        var (report, record) = Bare(
            [
                new ExportVariant
                {
                    Name = "fp32 ONNX Runtime", Engine = "onnxruntime", Precision = "fp32", File = "/x/model.onnx", FileBytes = 2048,
                    Latency = [LatencyMeter.Summarize([0.063], 1, 0), LatencyMeter.Summarize([3.69], 64, 0)],
                },
                new ExportVariant
                {
                    // Slower at batch 1, faster at batch 64: only batch 1 is called out.
                    Name = "int8 ONNX Runtime", Engine = "onnxruntime", Precision = "int8", File = "/x/model.int8.onnx", FileBytes = 600,
                    Latency = [LatencyMeter.Summarize([0.071], 1, 0), LatencyMeter.Summarize([3.01], 64, 0)],
                },
            ],
            new Int8VariantReport
            {
                File = "model.int8.onnx", WeightBits = 7, Scheme = "QDQ; 7 bits", SafeWithoutVnni = true, WorstPairSum = 32_640,
                Agreement = new KdData.Quantization.Int8AgreementCheck { Top1Agreement = 0.995, Minimum = 0.98, Images = 200, AcceptLow = false },
            });

        var card = ModelCardWriter.Render(report, record, []);

        Assert.Contains("CPU instruction set: **AVX2 (no VNNI)**", card, StringComparison.Ordinal);
        Assert.Contains("**On this machine, int8 ONNX Runtime is slower than fp32 ONNX Runtime at batch 1** (P50 0.071 ms against 0.063 ms, 1.13x)", card, StringComparison.Ordinal);
        Assert.DoesNotContain("at batch 64**", card, StringComparison.Ordinal);
        Assert.Contains("## int8", card, StringComparison.Ordinal);
        Assert.Contains("scheme: QDQ; 7 bits", card, StringComparison.Ordinal);
        Assert.Contains("Right on every CPU", card, StringComparison.Ordinal);
        Assert.Contains("its integer kernels agree with the same int8 graph computed in float on 99.50 % of 200 images (minimum 98.0 %: passed)", card, StringComparison.Ordinal);
    }

    [Fact]
    public void Render_EightBitInt8_WarnsItIsOnlyRightWithVnni()
    {
        var (report, record) = Bare([], new Int8VariantReport { File = "model.int8.onnx", WeightBits = 8, SafeWithoutVnni = false, WorstPairSum = 64_770 });

        var card = ModelCardWriter.Render(report, record, []);

        Assert.Contains("**Only right on CPUs with VNNI, AMX or ARM dot products**: its 8-bit weights", card, StringComparison.Ordinal);
        Assert.Contains("and this machine is one of them", card, StringComparison.Ordinal);
        Assert.Contains("Agreement not measured", card, StringComparison.Ordinal);
    }
}
