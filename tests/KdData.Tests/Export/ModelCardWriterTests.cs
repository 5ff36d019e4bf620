using System.Text.Json.Nodes;
using KdData.Export;
using KdData.Models;

namespace KdData.Tests.Export;

public sealed class ModelCardWriterTests
{
    [Fact]
    public void Render_DistilledStudentLineage_ListsTeachersShardSetsAndVariants()
    {
        var lineage = JsonNode.Parse("""
            {"stage":"distill","dataset":"file:data/fashion-mnist/","teachers":["a940680de48e1b40","a940680de48e1b40"],
             "eval_teacher":"out/teacher/last.json",
             "shard_sets":[{"location":"out/labels/teacher=a940680de48e1b40/","teacher_id":"a940680de48e1b40","teacher_source":"out/teacher/last.json","views_per_image":4,"commits":9}]}
            """)!.AsObject();
        var record = new CheckpointRecord
        {
            Architecture = new ModelSpec { Name = "convnet", NumClasses = 2, InChannels = 1, Width = 8 },
            Classes = ["cat", "dog"],
            WeightsSha256 = new string('a', 64),
            Training = new JsonObject { ["lineage"] = lineage.DeepClone() },
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
}
