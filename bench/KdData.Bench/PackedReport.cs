using System.Globalization;
using System.Text;

namespace KdData.Bench;

/// <summary>
/// The table of <c>packed</c>: one row per measured run, the mean per input kind, the packed/loose images/s ratio of each
/// round (a packed run against the loose run just before it, so both met about the same load), and PASS/MISS per goal.
/// The same text is printed and, in <c>bench/labeler/packed.md</c>, committed.
/// </summary>
internal static class PackedReport
{
    public static string Table(PackedBenchResult r)
    {
        var s = r.Settings;
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture).TrimEnd());

        Line($"Labeler over Azurite, loose blobs vs packed files: {s.Images} Fashion-MNIST train images, teacher {r.Teacher}");
        Line($"Machine: {MachineLine(r)}");
        Line($"Command: {r.Command}");
        Line($"Labeler: batch {s.Batch}, {s.Threads} Torch threads, decode workers {(s.DecodeWorkers == 0 ? "default (one per core)" : s.DecodeWorkers.ToString(CultureInfo.InvariantCulture))}, {s.FetchConcurrency} downloads, {s.PackedConcurrency} packed files at once; {s.Rounds} round(s) of {string.Join(", ", s.Kinds)}{(s.Warmup > 0 ? $" after an unmeasured warm-up run of each over {s.Warmup} other images" : string.Empty)}");
        Line($"Inputs (ready before the runs in {r.UploadSeconds:F0} s, not measured; 0-few s when kept in Azurite's data folder): {string.Join("; ", s.Kinds.Where(r.Inputs.ContainsKey).Select(k => InputLine(k, r.Inputs[k], s)))}");
        Line($"Load average (1 min): {Format(r.LoadAverage.FirstOrDefault(), "F1")} at start, {Format(r.LoadAverage.Count > 1 ? r.LoadAverage[^1] : null, "F1")} at end, on {r.Machine.LogicalCores} logical cores{(r.LoadAverage.Any(l => l > r.Machine.LogicalCores + 1) ? " (other work shared the machine: img/s is noisy, CPU ms/img is the steadier figure)" : string.Empty)}");
        Line($"");
        Line($"{"round",-5} {"input",-8} {"images",7} {"seconds",8} {"img/s",8} {"ours CPU ms/img",15} {"Azurite CPU ms/img",18} {"KiB alloc/img",13} {"gen2",4} {"load",5}  exactly once");
        foreach (var run in r.Runs)
        {
            var e = run.Run;
            Line($"{run.Round,-5} {run.Kind,-8} {e.Images,7} {e.Seconds,8:F1} {e.ImagesPerSecond,8:F0} {run.OurCpuMsPerImage,15:F3} {run.AzuriteCpuMsPerImage,18:F3} {e.AllocatedBytesPerImage / 1024,13:F1} {e.Gen2Collections,4} {run.LoadAverage,5:F1}  {ExactlyOnce(run.ExactlyOnce)}");
        }

        foreach (var kind in s.Kinds)
        {
            var runs = r.Runs.Where(x => x.Kind == kind).ToList();
            if (runs.Count > 0)
            {
                Line($"{"mean",-5} {kind,-8} {runs.Average(x => x.Run.Images),7:F0} {runs.Average(x => x.Run.Seconds),8:F1} {runs.Average(x => x.Run.ImagesPerSecond),8:F0} {runs.Average(x => x.OurCpuMsPerImage),15:F3} {runs.Average(x => x.AzuriteCpuMsPerImage),18:F3} {runs.Average(x => x.Run.AllocatedBytesPerImage) / 1024,13:F1} {"",4} {"",5}");
            }
        }

        Line($"");
        foreach (var kind in s.Formats)
        {
            var ratios = Ratios(r, kind);
            if (ratios.Count > 0)
            {
                Line($"{kind}/loose img/s per ABAB pair: {string.Join(", ", ratios.Select(p => $"{p.Ratio:F1} (round {p.Round})"))}; mean {ratios.Average(p => p.Ratio):F1}");
            }
        }

        Line($"");
        Line($"{"goal (packed inputs over Azurite)",-44} {string.Join(" ", s.Formats.Select(f => $"{f,-14}"))}");
        Line($"{$"img/s packed / loose >= {PackedBenchResult.RatioGoal:F0}x (mean of pairs)",-44} {string.Join(" ", s.Formats.Select(f => Verdict(Ratios(r, f).Select(p => p.Ratio).DefaultIfEmpty(double.NaN).Average(), PackedBenchResult.RatioGoal, atMost: false, "F1")))}");
        Line($"{$"ours CPU ms/img <= {PackedBenchResult.OurCpuGoalMs:F2} (mean)",-44} {string.Join(" ", s.Formats.Select(f => Verdict(Mean(r, f, x => x.OurCpuMsPerImage), PackedBenchResult.OurCpuGoalMs, atMost: true, "F3")))}");
        Line($"{$"Azurite CPU ms/img <= {PackedBenchResult.AzuriteCpuGoalMs:F2} (mean)",-44} {string.Join(" ", s.Formats.Select(f => Verdict(Mean(r, f, x => x.AzuriteCpuMsPerImage), PackedBenchResult.AzuriteCpuGoalMs, atMost: true, "F3")))}");
        Line($"{"every run exactly once",-44} {(r.Runs.Count > 0 && r.Runs.All(x => x.ExactlyOnce.Intact) ? "yes" : "NO")} ({r.Runs.Count} runs)");
        if (r.Stages is { Count: > 0 } stages)
        {
            Line($"");
            Line($"Stage CPU after the rounds (ms/img, best of 3; loose: one blob at a time and in-memory stages on one thread, as labeler --stages; packed: each format's files read one at a time, no decode; Azurite alone: median of 3):");
            foreach (var stage in stages)
            {
                Line($"  {stage.Stage,-92} {stage.CpuMsPerImage,8:F4}");
            }
        }
        return text.ToString();
    }

    /// <summary><c>bench/labeler/packed.md</c>: the date and how it was made, the table, and what the columns mean.</summary>
    public static string Markdown(PackedBenchResult r)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

        Line($"# Labeler over Azurite: loose blobs vs packed files (`packed`)");
        Line($"");
        Line($"Written by `bash bench/labeler/packed.sh` (see bench/README.md, *Packed inputs over Azurite*).");
        Line($"");
        Line($"- Date: {r.StartedAt:yyyy-MM-dd HH:mm} UTC, {r.TotalSeconds / 60:F1} min in all");
        Line($"- Command: `{r.Command}`");
        Line($"- Machine: {MachineLine(r)}");
        Line($"- Load average (1 min): {Format(r.LoadAverage.FirstOrDefault(), "F1")} at start, {Format(r.LoadAverage.Count > 1 ? r.LoadAverage[^1] : null, "F1")} at end");
        Line($"- Two Azurites: the loose blobs in one, the packed files in the other, so that neither pays for re-saving the other's metadata (Azurite rewrites one JSON of all its blobs after writes)");
        Line($"");
        Line($"```");
        text.Append(Table(r));
        Line($"```");
        Line($"");
        Line($"Columns: *img/s* = images / wall seconds of the whole Labeler run (lease, listing, reading, decode, teacher, shards and manifest written to Azurite); *ours CPU ms/img* = the bench process's CPU time (user + system, all threads) over the run / images: the Labeler engine in process, with the Azure SDK, Parquet.Net, Skia and LibTorch; *Azurite CPU ms/img* = Azurite's process tree (`/proc/<pid>/stat` utime + stime of node and any children) over the same run / images, serving the reads and the run's own writes; *KiB alloc/img* and *gen2* = managed bytes allocated per image and gen-2 collections during the run; *load* = 1-minute load average before the run; *exactly once* = the committed manifests and every shard they name, read back: each input image one accepted or rejected row, no error rows, nothing twice, no shard outside the manifests. A ratio divides a packed run's img/s by the loose run of the same round.");
        return text.ToString();
    }

    private static string MachineLine(PackedBenchResult r) =>
        string.Create(CultureInfo.InvariantCulture, $"{r.Cpu.Model}, cpu family {r.Cpu.Family}, {r.Cpu.VectorLevel}; {r.Machine.LogicalCores} logical cores, {r.Machine.MemoryGiB} GiB RAM, {(r.Machine.Gpu ? "CUDA GPU" : "no GPU")}, {r.Machine.Os}, {r.Machine.Runtime}");

    private static string InputLine(string kind, PackedInputSize size, PackedBenchSettings s) => kind switch
    {
        PackedBenchKinds.Loose => string.Create(CultureInfo.InvariantCulture, $"loose {size.Objects} PNG blobs, {size.Bytes / 1e6:F1} MB"),
        PackedBenchKinds.Parquet => string.Create(CultureInfo.InvariantCulture, $"parquet {size.Objects} files of up to {s.ShardImages} rows, row groups of {s.RowGroup} (image binary + label int, Snappy), {size.Bytes / 1e6:F1} MB"),
        _ => string.Create(CultureInfo.InvariantCulture, $"tar {size.Objects} WebDataset files of up to {s.ShardImages} samples (NNNNN.png + NNNNN.cls, ustar), {size.Bytes / 1e6:F1} MB"),
    };

    private static List<(int Round, double Ratio)> Ratios(PackedBenchResult r, string kind) =>
        [.. r.Runs.Where(x => x.Kind == kind)
            .Select(p => (p.Round, Loose: r.Runs.FirstOrDefault(x => x.Kind == PackedBenchKinds.Loose && x.Round == p.Round), Packed: p))
            .Where(p => p.Loose is { Run.ImagesPerSecond: > 0 })
            .Select(p => (p.Round, p.Packed.Run.ImagesPerSecond / p.Loose!.Run.ImagesPerSecond))];

    private static double Mean(PackedBenchResult r, string kind, Func<PackedRunResult, double> figure) =>
        r.Runs.Where(x => x.Kind == kind).Select(figure).DefaultIfEmpty(double.NaN).Average();

    private static string Verdict(double value, double goal, bool atMost, string format) =>
        double.IsNaN(value)
            ? $"{"-",-14}"
            : $"{value.ToString(format, CultureInfo.InvariantCulture) + " " + ((atMost ? value <= goal : value >= goal) ? "PASS" : "MISS"),-14}";

    private static string ExactlyOnce(InvariantResult i) => i.Intact
        ? string.Create(CultureInfo.InvariantCulture, $"yes ({i.AcceptedRows} accepted + {i.RejectedRows} rejected of {i.Images}, {i.Commits} commits)")
        : string.Create(CultureInfo.InvariantCulture, $"NO: {i.ProblemCount} problems, e.g. {(i.Problems.Count > 0 ? i.Problems[0] : string.Empty)}");

    private static string Format(double? value, string format) => value is { } v ? v.ToString(format, CultureInfo.InvariantCulture) : "-";
}
