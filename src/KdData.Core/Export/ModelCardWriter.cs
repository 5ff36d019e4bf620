using System.Globalization;
using System.Text;
using KdData.Models;
using KdData.Records;

namespace KdData.Export;

/// <summary>
/// Writes <c>model-card.md</c> from an <see cref="ExportReport"/> and the checkpoint record: what the model is, where
/// it came from (lineage: teachers, shard sets, parent checkpoints), how it scores (accuracy, per class, confusion
/// matrix, calibration), how fast and large each variant is, and the trade-off charts beside it.
/// </summary>
public static class ModelCardWriter
{
    public const string FileName = "model-card.md";
    public const string LatencyChart = "accuracy-vs-latency.png";
    public const string SizeChart = "accuracy-vs-size.png";

    /// <summary>The card's Markdown. <paramref name="charts"/> names the chart files present beside it.</summary>
    public static string Render(ExportReport report, CheckpointRecord record, IReadOnlyCollection<string> charts)
    {
        ArgumentNullException.ThrowIfNull(report);
        ArgumentNullException.ThrowIfNull(record);
        ArgumentNullException.ThrowIfNull(charts);
        var md = new StringBuilder();
        md.AppendLine(Inv($"# Model card: {report.Architecture} `{report.CheckpointId}`"));
        md.AppendLine();
        md.AppendLine(Inv($"Exported {report.CreatedAt:yyyy-MM-dd HH:mm} UTC from `{report.Checkpoint}` by `kddata-trainer export`."));
        md.AppendLine();

        md.AppendLine("## Model");
        md.AppendLine();
        md.AppendLine(Inv($"- Architecture: `{report.Architecture}` ({DescribeSpec(record.Architecture)})"));
        md.AppendLine(Inv($"- Parameters: {report.Parameters:N0}; MACs per image: {report.Macs:N0}"));
        md.AppendLine(Inv($"- ONNX: opset {report.Opset}; input `{report.Input}` float32; output `{report.Output}` float32 (raw logits, softmax not applied); BatchNorm folded into the convolutions"));
        if (record.Preprocessing is { } pre)
        {
            md.AppendLine(Inv($"- Input preprocessing: {pre.Width}x{pre.Height}, {pre.Channels} channel(s), pixels scaled to [0, 1] then normalised with mean [{Join(pre.Mean)}] and std [{Join(pre.Std)}]"));
        }
        if (report.Classes.Count > 0)
        {
            md.AppendLine(Inv($"- Classes (logit order): {string.Join(", ", report.Classes.Select((c, i) => $"{i} {c}"))}"));
        }
        md.AppendLine();

        md.AppendLine("## Lineage");
        md.AppendLine();
        md.AppendLine(Inv($"- Checkpoint weights SHA-256: `{record.WeightsSha256}`"));
        AppendLineage(md, report.Lineage, record);
        md.AppendLine();

        md.AppendLine("## Evaluation");
        md.AppendLine();
        if (report.Metrics is { } m && report.Data is { } data)
        {
            md.AppendLine(Inv($"Exported fp32 ONNX model on `{data.Dataset}` {data.Manifest}, split `{data.Split}`: {m.Count:N0} images ({data.Skipped} unreadable skipped)."));
            md.AppendLine();
            md.AppendLine(Inv($"- Top-1 accuracy: **{m.Accuracy * 100:F2} %**"));
            md.AppendLine(Inv($"- Negative log-likelihood: {m.NegativeLogLikelihood:F4}"));
            md.AppendLine(Inv($"- Calibration: ECE {m.ExpectedCalibrationError:F4} over {m.ReliabilityBins.Count} bins; mean confidence {m.MeanConfidence:F4}"));
            md.AppendLine();
            md.AppendLine("| class | images | accuracy |");
            md.AppendLine("| --- | ---: | ---: |");
            for (var c = 0; c < m.PerClassAccuracy.Count; c++)
            {
                var name = c < report.Classes.Count ? report.Classes[c] : c.ToString(CultureInfo.InvariantCulture);
                var accuracy = m.PerClassAccuracy[c] is { } a ? Inv($"{a * 100:F2} %") : "-";
                md.AppendLine(Inv($"| {c} {name} | {m.ClassCounts[c]} | {accuracy} |"));
            }
            md.AppendLine();
            md.AppendLine("Confusion matrix (rows: true class, columns: predicted):");
            md.AppendLine();
            var k = m.ConfusionMatrix.Count;
            md.AppendLine("| true \\ pred | " + string.Join(" | ", Enumerable.Range(0, k)) + " |");
            md.AppendLine("| --- |" + string.Concat(Enumerable.Repeat(" ---: |", k)));
            for (var r = 0; r < k; r++)
            {
                md.AppendLine(Inv($"| {r} | ") + string.Join(" | ", m.ConfusionMatrix[r]) + " |");
            }
        }
        else
        {
            md.AppendLine("Not evaluated: no dataset was given (`--dataset`). The checkpoint's own metrics:");
            md.AppendLine();
            foreach (var (name, value) in record.Metrics)
            {
                md.AppendLine(Inv($"- {name}: {value:G6}"));
            }
        }
        md.AppendLine();

        md.AppendLine("## Parity");
        md.AppendLine();
        md.AppendLine(Inv($"ONNX Runtime vs TorchSharp logits on {report.Parity.Images} images ({report.Parity.Source}): max |difference| {report.Parity.MaxAbsDifference:E2} (tolerance {report.Parity.Tolerance:E0}), top-1 agreement {report.Parity.Top1Agreement * 100:F2} %."));
        md.AppendLine();

        if (report.Quantized is { } int8)
        {
            AppendInt8(md, int8, report.InstructionSet);
        }

        md.AppendLine("## Size and latency");
        md.AppendLine();
        md.AppendLine(Inv($"Measured on {report.Machine}, {report.Threads} intra-op thread(s) per engine; latency is wall time per call after warm-up, percentiles by nearest rank."));
        if (report.InstructionSet is { } cpu)
        {
            md.AppendLine(Inv($"CPU instruction set: **{cpu.Level}** (int8 accumulation: {cpu.Int8Accumulation}). int8 speed-ups carry over to CPUs of the same level only."));
        }
        foreach (var sentence in Int8SlowerSentences(report.Variants))
        {
            md.AppendLine();
            md.AppendLine(sentence);
        }
        md.AppendLine();
        md.AppendLine("| variant | file | size (KiB) | accuracy | batch | P50 ms | P95 ms | P99 ms | images/s | peak RSS (MiB) |");
        md.AppendLine("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
        foreach (var v in report.Variants)
        {
            var accuracy = v.Accuracy is { } a ? Inv($"{a * 100:F2} %") : "-";
            var memory = v.PeakResidentBytes is { } bytes ? Inv($"{bytes / 1048576.0:F0}") : "-";
            var head = Inv($"| {v.Name} | `{Path.GetFileName(v.File)}` | {v.FileBytes / 1024.0:F1} | {accuracy} ");
            if (v.Latency.Count == 0)
            {
                md.AppendLine(head + "| - | - | - | - | - | " + memory + " |");
            }
            foreach (var l in v.Latency)
            {
                md.AppendLine(head + Inv($"| {l.Batch} | {l.P50Ms:F3} | {l.P95Ms:F3} | {l.P99Ms:F3} | {l.ImagesPerSecond:F0} | {memory} |"));
            }
        }
        md.AppendLine();
        foreach (var chart in charts)
        {
            md.AppendLine(Inv($"![{Path.GetFileNameWithoutExtension(chart).Replace('-', ' ')}]({chart})"));
            md.AppendLine();
        }

        md.AppendLine("## Files");
        md.AppendLine();
        foreach (var (file, size) in report.Files)
        {
            md.AppendLine(Inv($"- `{file}` ({size:N0} bytes)"));
        }
        if (report.PublishedTo is { } published)
        {
            md.AppendLine();
            md.AppendLine(Inv($"Published to `{published}`; use it as a Labeler teacher with `--Labeler:Teacher {published}model.json`."));
        }
        md.AppendLine();
        md.AppendLine("## Intended use and limits");
        md.AppendLine();
        md.AppendLine("Image classification of inputs prepared exactly as above, for the classes listed. Accuracy and calibration hold for data like the evaluated split; other image sources, sizes or preprocessing are untested. Latency figures belong to the machine and thread count stated.");
        return md.ToString();
    }

    private static void AppendInt8(StringBuilder md, Int8VariantReport int8, CpuInstructionSet? cpu)
    {
        md.AppendLine("## int8");
        md.AppendLine();
        md.AppendLine(Inv($"- Model: `{int8.File}`; scheme: {int8.Scheme ?? "not recorded in the file"}"));
        md.AppendLine(int8.SafeWithoutVnni
            ? Inv($"- Right on every CPU: no weight pair can overflow the int16 sum of x86 CPUs without VNNI (worst 255·(|w|1+|w|2) = {int8.WorstPairSum:N0} ≤ 32,767).")
            : Inv($"- **Only right on CPUs with VNNI, AMX or ARM dot products**: its {int8.WeightBits?.ToString(CultureInfo.InvariantCulture) ?? "8"}-bit weights can overflow the int16 pair sum of x86 CPUs without VNNI (AVX2, AVX-512 without VNNI) (worst {int8.WorstPairSum:N0} > 32,767){(cpu is { Int8PairsSaturate: true } ? ", and this machine is one of them" : string.Empty)}."));
        if (int8.Agreement is { } a)
        {
            var verdict = a.Passed ? "passed" : a.AcceptLow ? "**under the minimum, accepted by Trainer:Export:AcceptLowInt8Agreement**" : "**under the minimum: not published**";
            md.AppendLine(Inv($"- Computed right on this CPU: its integer kernels agree with the same int8 graph computed in float on {a.Top1Agreement * 100:F2} % of {a.Images:N0} images (minimum {a.Minimum * 100:F1} %: {verdict})."));
            if (int8.AgreementWithExportedFp32 is { } withFp32)
            {
                md.AppendLine(Inv($"- Top-1 agreement with the exported fp32 model: {withFp32 * 100:F2} %."));
            }
        }
        else
        {
            md.AppendLine("- Agreement not measured: no dataset was given (`--dataset`).");
        }
        md.AppendLine();
    }

    /// <summary>A plain sentence for every batch size at which an int8 ONNX Runtime variant is slower than the fp32 one.</summary>
    private static IEnumerable<string> Int8SlowerSentences(IReadOnlyList<ExportVariant> variants)
    {
        var fp32 = variants.FirstOrDefault(v => v.Engine == "onnxruntime" && v.Precision == "fp32");
        if (fp32 is null)
        {
            yield break;
        }
        foreach (var int8 in variants.Where(v => v.Engine == "onnxruntime" && v.Precision == "int8"))
        {
            foreach (var l in int8.Latency)
            {
                var reference = fp32.Latency.FirstOrDefault(f => f.Batch == l.Batch);
                if (reference is not null && l.P50Ms > reference.P50Ms)
                {
                    yield return Inv($"**On this machine, {int8.Name} is slower than {fp32.Name} at batch {l.Batch}** (P50 {l.P50Ms:F3} ms against {reference.P50Ms:F3} ms, {l.P50Ms / reference.P50Ms:F2}x): here int8 saves file size and memory, not time.");
                }
            }
        }
    }

    private static void AppendLineage(StringBuilder md, LineageRecord? lineage, CheckpointRecord record)
    {
        if (lineage is null)
        {
            md.AppendLine("- No lineage recorded in the checkpoint (trained from labels only, or by an older build).");
            if (record.Training.Objective is { } objective)
            {
                md.AppendLine(Inv($"- Objective: {objective}"));
            }
            return;
        }
        if (lineage.Stage is { } stage)
        {
            md.AppendLine(Inv($"- Stage: {stage}"));
        }
        if (lineage.Parent is { } parent)
        {
            md.AppendLine(Inv($"- Parent checkpoint: `{RecordJson.ToCompactJson(parent)}`"));
        }
        if (lineage.Dataset is { } dataset)
        {
            md.AppendLine(Inv($"- Dataset: `{dataset}`"));
        }
        if (lineage.Teachers is { } teachers)
        {
            md.AppendLine(Inv($"- Teacher ids: {string.Join(", ", teachers.Select(t => $"`{t}`").Distinct())}"));
        }
        if (lineage.EvalTeacher is { } evalTeacher)
        {
            md.AppendLine(Inv($"- Teacher checkpoint: `{evalTeacher}`"));
        }
        if (lineage.ShardSets is { Count: > 0 } sets)
        {
            md.AppendLine();
            md.AppendLine("| shard set | teacher id | teacher checkpoint | views/image | commits |");
            md.AppendLine("| --- | --- | --- | ---: | ---: |");
            foreach (var set in sets)
            {
                md.AppendLine(Inv($"| `{set.Location}` | `{set.TeacherId}` | `{set.TeacherSource}` | {set.ViewsPerImage} | {set.Commits} |"));
            }
        }
        md.AppendLine();
        md.AppendLine("<details><summary>Full lineage record</summary>");
        md.AppendLine();
        md.AppendLine("```json");
        md.AppendLine(RecordJson.ToIndentedJson(lineage));
        md.AppendLine("```");
        md.AppendLine();
        md.AppendLine("</details>");
    }

    private static string DescribeSpec(ModelSpec spec)
    {
        var parts = new List<string> { Inv($"{spec.InChannels} input channel(s)"), Inv($"{spec.NumClasses} classes") };
        if (spec.Width is { } width) { parts.Add(Inv($"width {width}")); }
        if (spec.Depth is { } depth) { parts.Add(Inv($"depth {depth}")); }
        if (spec.WidenFactor is { } widen) { parts.Add(Inv($"widen factor {widen}")); }
        if (spec.WidthMult is { } mult) { parts.Add(Inv($"width multiplier {mult}")); }
        if (spec.Stem is { } stem) { parts.Add(Inv($"stem {stem}")); }
        return string.Join(", ", parts);
    }

    private static string Join(IReadOnlyList<float> values) => string.Join(", ", values.Select(v => v.ToString("G4", CultureInfo.InvariantCulture)));

    private static string Inv(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
