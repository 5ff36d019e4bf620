using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using KdData.Storage;
using KdData.Testing;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

using KdData.Models;
namespace KdData.Bench;

/// <summary>
/// <c>labeler</c>: in one process and run, teacher-only forward throughput, then end-to-end Labeler throughput
/// from the local store and from Azurite with the same teacher, batch size and Torch threads, then teacher-only
/// again; optionally peak RSS of labeling N vs 60k images, each in its own child process.
/// </summary>
internal sealed class LabelerBenchmark(LabelerBenchSettings settings, string command)
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    public async Task<LabelerBenchResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        set_num_threads(settings.Threads);
        var machine = MachineDescription.Current();
        Console.WriteLine($"Machine: {machine}");
        Console.WriteLine(Invariant($"Settings: {settings.Images} images, batch {settings.Batch}, {settings.Threads} Torch threads, decode workers {(settings.DecodeWorkers == 0 ? "default (one per core)" : settings.DecodeWorkers)}, {settings.FetchConcurrency} downloads"));

        var work = Path.Combine(Path.GetTempPath(), "kddata-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        AzuriteServer? azurite = null;
        try
        {
            var (teacherPath, parameters) = await BenchTeacher.CreateAsync(Path.Combine(work, "teacher"), settings.Teacher, settings.Channels, cancellationToken);
            var imports = new Dictionary<string, double>(StringComparer.Ordinal);
            var localStores = Stores(null);
            var localData = await EnsureLocalDatasetAsync(localStores, settings.Images, imports, cancellationToken);

            ObjectStoreFactory? azureStores = null;
            string? azureData = null;
            if (settings.Azurite)
            {
                Console.WriteLine($"Starting Azurite {AzuriteServer.Version} ...");
                azurite = await AzuriteServer.StartAsync(RepoRoot(), cancellationToken);
                azureStores = Stores(azurite.ConnectionString);
                azureData = "az://bench/fashion-mnist/";
                Console.WriteLine(Invariant($"Importing {settings.Images} images into Azurite (not measured) ..."));
                imports["azurite"] = await BenchDataset.EnsureAsync(azureStores.Open(azureData), settings.IdxDirectory, settings.Images, cancellationToken);
            }

            using var teacher = await InferenceModel.LoadAsync(localStores, teacherPath, CPU, cancellationToken);
            var result = new LabelerBenchResult
            {
                StartedAt = DateTimeOffset.UtcNow,
                Command = command,
                Machine = machine,
                Settings = settings,
                Teacher = BenchTeacher.Describe(settings.Teacher, settings.Channels),
                TeacherParameters = parameters,
                ImportSeconds = imports,
                LoadAverage = [MachineDescription.LoadAverage()],
                TeacherOnlyBefore = MeasureTeacher(teacher, "before"),
            };

            if (settings.Stages)
            {
                var size = BenchTeacher.SizeOf(settings.Teacher);
                var stageImages = Math.Min(settings.Images, 5000);
                Console.WriteLine(Invariant($"Stage CPU profile over {stageImages} images at {size}x{size}x{settings.Channels} ..."));
                result.StageCpu = [.. (await StageProfile.MeasureAsync(localStores.Open(localData), stageImages, size, settings.Channels, settings.Batch, cancellationToken))
                    .Select(s => new StageCpuResult(s.Stage, s.CpuMsPerImage))];
                Console.Write(StageProfile.Table([.. result.StageCpu.Select(s => (s.Stage, s.CpuMsPerImage))], stageImages));
            }

            if (settings.Local)
            {
                Console.WriteLine("End-to-end from the local store ...");
                result.Local = await EndToEndRun.RunAsync(localStores, teacher, "local", localData, FileUri(Path.Combine(work, "labels-local")), settings, cancellationToken: cancellationToken);
                Console.WriteLine(Invariant($"  local: {result.Local.ImagesPerSecond:F1} img/s"));
            }

            if (settings.Local && azurite is not null)
            {
                // ABA(B)A: a teacher-only reference right next to each end-to-end part, so each ratio divides by
                // the machine's speed at that time rather than minutes earlier.
                result.TeacherOnlyBetween = MeasureTeacher(teacher, "between");
            }

            if (azurite is not null && azureStores is not null && azureData is not null)
            {
                Console.WriteLine("End-to-end from Azurite (shards written to Azurite too) ...");
                var server = azurite;
                result.Azurite = await EndToEndRun.RunAsync(azureStores, teacher, "azurite", azureData + BenchDataset.Pool, "az://labels/", settings, () => server.CpuTime, cancellationToken: cancellationToken);
                Console.WriteLine(Invariant($"  azurite: {result.Azurite.ImagesPerSecond:F1} img/s"));
            }

            result.TeacherOnlyAfter = MeasureTeacher(teacher, "after");
            result.LoadAverage.Add(MachineDescription.LoadAverage());

            if (settings.Rss)
            {
                // Azurite plays no part in the RSS runs: stop it so it does not compete for the cores.
                if (azurite is not null)
                {
                    await azurite.DisposeAsync();
                    azurite = null;
                }

                var largeData = await EnsureLocalDatasetAsync(localStores, settings.RssImages, imports, cancellationToken);
                Console.WriteLine(Invariant($"Peak RSS: labeling {settings.Images} images in a child process ..."));
                result.RssSmall = await ChildLabelingProcess.RunAsync(localData, teacherPath, settings.Images, settings, cancellationToken);
                Console.WriteLine(Invariant($"Peak RSS: labeling {settings.RssImages} images in a child process ..."));
                result.RssLarge = await ChildLabelingProcess.RunAsync(largeData, teacherPath, settings.RssImages, settings, cancellationToken);
            }

            result.TotalSeconds = total.Elapsed.TotalSeconds;
            Console.WriteLine();
            Console.Write(Table(result));
            var path = await WriteJsonAsync(result, cancellationToken);
            Console.WriteLine($"Result: {path}");
            return result;
        }
        finally
        {
            if (azurite is not null)
            {
                await azurite.DisposeAsync();
            }

            Directory.Delete(work, recursive: true);
        }
    }

    private TeacherThroughputResult MeasureTeacher(InferenceModel teacher, string when)
    {
        Console.WriteLine(Invariant($"Teacher only ({when}): {settings.TeacherSeconds:F0} s of batches of {settings.Batch} ..."));
        var measured = TeacherThroughput.Measure(teacher, settings.Batch, settings.Channels, BenchTeacher.SizeOf(settings.Teacher), settings.TeacherSeconds);
        Console.WriteLine(Invariant($"  teacher only ({when}): {measured.ImagesPerSecond:F1} img/s ({measured.Batches} batches; median batch {measured.MedianBatchImagesPerSecond:F1} img/s)"));
        return measured;
    }

    /// <summary>Imports (or reuses) the first <paramref name="images"/> train images in the cache folder; returns the pool's location.</summary>
    private async Task<string> EnsureLocalDatasetAsync(ObjectStoreFactory stores, int images, Dictionary<string, double> imports, CancellationToken cancellationToken)
    {
        var root = Path.Combine(Path.GetFullPath(settings.DataDirectory), Invariant($"fashion-mnist-train-{images}"));
        Console.WriteLine(Invariant($"Local dataset of {images} images in {root} (imported once, then reused; not measured) ..."));
        imports[Invariant($"local-{images}")] = await BenchDataset.EnsureAsync(stores.Open(FileUri(root)), settings.IdxDirectory, images, cancellationToken);
        return FileUri(root) + BenchDataset.Pool;
    }

    private static ObjectStoreFactory Stores(string? connectionString) =>
        new(Options.Create(new StorageOptions { ConnectionString = connectionString }));

    private static string FileUri(string directory) => new Uri(Path.GetFullPath(directory).TrimEnd('/') + "/").AbsoluteUri;

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KdData.sln")))
            {
                return dir.FullName;
            }
        }

        return Directory.GetCurrentDirectory();
    }

    private async Task<string> WriteJsonAsync(LabelerBenchResult result, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(settings.OutputDirectory);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, Invariant($"labeler-{result.StartedAt:yyyyMMdd'T'HHmmss'Z'}.json"));
        await File.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(result, Json), cancellationToken);
        return path;
    }

    internal static string Table(LabelerBenchResult r)
    {
        var s = r.Settings;
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
        string Verdict(double? ratio, double goal, bool atMost) =>
            ratio is not { } x ? "-" : (atMost ? x <= goal : x >= goal) ? "PASS" : "MISS";

        Line($"Labeler benchmark: {r.Teacher} ({r.TeacherParameters / 1e6:F1} M parameters), batch {s.Batch}, {s.Threads} Torch threads, decode workers {(s.DecodeWorkers == 0 ? "default" : s.DecodeWorkers.ToString(CultureInfo.InvariantCulture))}, {s.FetchConcurrency} downloads");
        Line($"Machine: {r.Machine}");
        Line($"Command: {r.Command}");
        Line($"");
        if (r.StageCpu is { Count: > 0 } stages)
        {
            Line($"Stage CPU, one thread, in-memory images (ms/img): {string.Join(", ", stages.Select(st => $"{st.Stage} {st.CpuMsPerImage:F4}"))}; sum {stages.Sum(st => st.CpuMsPerImage):F4}");
        }

        Line($"{"measurement",-34} {"images",7} {"seconds",8} {"img/s",8} {"teacher busy",12} {"teacher img/s in run",21} {"ratio",6} {"goal",7} {"result",6} {"CPU ms/img",10} {"CPU ratio",9}");
        foreach (var (name, t) in new[] { ("teacher only (before)", r.TeacherOnlyBefore), ("teacher only (between)", r.TeacherOnlyBetween), ("teacher only (after)", r.TeacherOnlyAfter) })
        {
            if (t is not null)
            {
                Line($"{name,-34} {t.Batches * s.Batch,7} {t.Seconds,8:F1} {t.ImagesPerSecond,8:F1} {"",12} {"",21} {"",6} {"",7} {"",6} {t.CpuSecondsPerImage * 1000,10:F2} {"",9}");
            }
        }

        foreach (var (name, run, ratio, goal, cpuRatio) in new[] { ("end-to-end, local store", r.Local, r.LocalRatio, LabelerBenchResult.LocalGoal, r.LocalCpuRatio), ("end-to-end, Azurite", r.Azurite, r.AzuriteRatio, LabelerBenchResult.AzuriteGoal, r.AzuriteCpuRatio) })
        {
            if (run is not null)
            {
                Line($"{name,-34} {run.Images,7} {run.Seconds,8:F1} {run.ImagesPerSecond,8:F1} {run.TeacherBusy,12:P1} {run.InferenceImagesPerSecond,21:F1} {ratio,6:F3} {">=" + goal.ToString("F2", CultureInfo.InvariantCulture),7} {Verdict(ratio, goal, atMost: false),6} {run.CpuSecondsPerImage * 1000,10:F2} {cpuRatio,9:F3}");
            }
        }

        Line($"(teacher busy = time in teacher forward passes / run wall time: the in-run utilisation, the headline figure;");
        Line($" ratio = end-to-end img/s / the mean of the teacher-only measurements taken right before and after that part;");
        Line($" CPU ratio = teacher-only CPU ms/img (lower of the two) / end-to-end CPU ms/img incl. Azurite's: the ratio expected on an idle machine)");
        foreach (var run in new[] { r.Local, r.Azurite })
        {
            if (run is not null)
            {
                var azuriteCpu = run.AzuriteCpuSeconds is { } a ? $", Azurite CPU {a:F1} s" : string.Empty;
                var azuriteMs = run.AzuriteCpuSeconds is { } am ? $" + Azurite {am * 1000 / run.Images:F3}" : string.Empty;
                Line($"{run.Source}: shard bytes/image {run.ShardBytesPerImage:F1} ({run.ShardBytes} bytes, {run.Commits} commits); bench CPU {run.BenchCpuSeconds:F1} s{azuriteCpu} in {run.Seconds:F1} s wall; CPU ms/img: bench process {run.BenchCpuSeconds * 1000 / run.Images:F3}{azuriteMs}; allocated {run.AllocatedBytesPerImage / 1024:F1} KiB/img, {run.Gen2Collections} gen-2 GCs");
            }
        }

        if (r.RssSmall is { } small && r.RssLarge is { } large)
        {
            Line($"Peak RSS (VmHWM, child process each): {small.Run.Images} images {small.PeakRssKiB / 1024.0:F1} MiB ({small.Run.Seconds:F0} s), {large.Run.Images} images {large.PeakRssKiB / 1024.0:F1} MiB ({large.Run.Seconds:F0} s); ratio {r.RssRatio:F3} (goal <=1.15) {Verdict(r.RssRatio, LabelerBenchResult.RssGoal, atMost: true)}");
        }

        Line($"Load average (1 min) at start and end of the throughput part: {string.Join(" / ", r.LoadAverage.Select(l => l.ToString("F1", CultureInfo.InvariantCulture)))} on {r.Machine.LogicalCores} cores{(r.LoadAverage.Any(l => l > Math.Max(r.Machine.LogicalCores, s.Threads) + 1) ? " (above what the bench itself explains: other work shared the machine, figures are noisy)" : string.Empty)}");
        Line($"Imports (not measured): {string.Join(", ", r.ImportSeconds.Select(i => $"{i.Key} {i.Value:F0} s"))}; total bench time {r.TotalSeconds:F0} s");
        return text.ToString();
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
