using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using KdData.Datasets;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Labeling;
using KdData.Models;
using KdData.Objectives;
using KdData.Storage;
using KdData.Torch;
using KdData.Training;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace KdData.Bench;

/// <summary>
/// <c>distill-loader</c>, the three cost figures of issue 8's results table, on Fashion-MNIST with the results table's
/// student (convnet width 32, batch 128, 2 Torch threads):
/// <list type="number">
/// <item><description>loader ratio: a distillation epoch with the real channel-fed <see cref="DistillationData"/> from the
/// local store over the same epoch's batches made beforehand and replayed from memory, same loop and KD objective;</description></item>
/// <item><description>KD over supervised: the KD objective with teacher logits over the CE objective on plain labeled
/// batches (the same images; pool images labeled by the teacher's arg-max), both from memory;</description></item>
/// <item><description>peak RSS of the real <c>kddata-trainer distill</c> over a small and a large pseudo-labeled pool,
/// each in a child process.</description></item>
/// </list>
/// Epochs of kinds 1 and 2 alternate (ABC, then CBA, ...) so drift in the machine's load hits every kind alike.
/// Shards come from the real Labeler engine with a randomly initialised convnet teacher: accuracy plays no part here.
/// </summary>
internal sealed class DistillLoaderBenchmark(DistillLoaderSettings settings, string command)
{
    private const int TestImages = 256;
    private const int Seed = 42;
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    /// <summary>The <c>Imaging</c> section of the repository's appsettings.json, which the child trainer reads too.</summary>
    private static readonly ImageOptions Imaging = new()
    {
        OutputSize = 28,
        ResizeSize = 28,
        Channels = 1,
        Mean = [0.2860f],
        Std = [0.3530f],
    };

    public async Task<DistillLoaderResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        set_num_threads(settings.Threads);
        TorchRuntime.UsePolicy(new TorchOptions { OneDnn = settings.OneDnn }.OneDnnPolicy);
        var machine = MachineDescription.Current();
        Console.WriteLine($"Machine: {machine}");
        Console.WriteLine(Invariant($"Settings: {settings.Labeled} labeled + {settings.Pool} pool images, convnet width {settings.Width}, batch {settings.Batch}, {settings.Threads} Torch threads, {settings.DecodeWorkers} decode workers, oneDNN {settings.OneDnn}, {settings.Rounds} rounds"));

        var work = Path.Combine(Path.GetTempPath(), "kddata-bench-distill-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var stores = new ObjectStoreFactory(Options.Create(new StorageOptions()));
            var setup = new Dictionary<string, double>(StringComparer.Ordinal);
            var preprocessing = new PreprocessingRecord
            {
                Width = Imaging.OutputSize,
                Height = Imaging.OutputSize,
                Channels = Imaging.Channels,
                Mean = [.. Imaging.GetEffectiveMean()],
                Std = [.. Imaging.GetEffectiveStd()],
            };

            var (datasetRoot, poolImages) = await EnsureDatasetAsync(stores, settings.Labeled, settings.Pool, setup, cancellationToken);
            var dataset = stores.Open(datasetRoot);
            var (manifest, classes) = await ReadDatasetAsync(dataset, cancellationToken);
            var teacherSpec = new ModelSpec { Name = "convnet", NumClasses = classes.Count, InChannels = Imaging.Channels, Width = settings.Width };
            var (teacherPath, teacherParameters) = await BenchTeacher.CreateAsync(Path.Combine(work, "teacher"), teacherSpec, preprocessing, classes, cancellationToken);
            using var teacher = await InferenceModel.LoadAsync(stores, teacherPath, CPU, cancellationToken);
            var labels = FileUri(Path.Combine(work, "labels"));
            setup["label-pool"] = await LabelAsync(stores, teacher, datasetRoot + DatasetLayout.UnlabeledPrefix, labels, poolImages, cancellationToken);

            // What DistillJob does before training: read and select the shard rows, join them with the manifest.
            var reader = new ShardSetReader(stores, new ShardSelectionOptions { Locations = { labels } });
            var softTargets = await reader.ReadAsync(classes, preprocessing, cancellationToken);
            var samples = DistillationSamples.Build(
                dataset,
                [.. manifest.Where(r => r.Split == DatasetSplits.Train)],
                [.. manifest.Where(r => r.Split == DatasetSplits.Test)],
                softTargets);
            var caches = samples.Stores.Select(s => new ImageByteCache(s, null)).ToList();
            var loader = new DistillationData(caches, samples.Labeled, samples.Pseudo, classes.Count, Imaging,
                new TrainingDataOptions { DecodeWorkers = settings.DecodeWorkers }, new DistillationMixOptions(), settings.Batch, Seed);
            Console.WriteLine(Invariant($"Distillation data: {samples.Labeled.Count} labeled + {samples.Pseudo.Count} pseudo-labeled images; batches of {loader.LabeledPerBatch} + {loader.PseudoPerBatch}, {loader.BatchesPerEpoch} per epoch"));

            // The loader's epoch 1, made once and kept: the replays train on exactly these batches.
            var collect = Stopwatch.StartNew();
            var premade = new List<LabeledBatch>(loader.BatchesPerEpoch);
            await foreach (var batch in loader.ReadEpochAsync(1, cancellationToken))
            {
                premade.Add(batch);
            }

            setup["collect-batches"] = collect.Elapsed.TotalSeconds;
            var plain = premade.Select(PlainLabeled).ToList();
            var eval = new InMemoryTrainingData(plain[0].Pixels, plain[0].Labels, plain[0].Channels, plain[0].Height, plain[0].Width, settings.Batch);

            var studentSpec = teacherSpec;
            manual_seed(Seed);
            long studentParameters;
            using (var probe = ModelZoo.Create(studentSpec))
            {
                studentParameters = ModelZoo.CountParameters(probe);
            }

            var result = new DistillLoaderResult
            {
                StartedAt = DateTimeOffset.UtcNow,
                Command = command,
                Machine = machine,
                Settings = settings,
                Student = Invariant($"convnet width {settings.Width}, {Imaging.OutputSize}x{Imaging.OutputSize}x{Imaging.Channels}"),
                StudentParameters = studentParameters,
                Teacher = Invariant($"convnet width {settings.Width}, random weights ({teacherParameters} parameters)"),
                LabeledImages = samples.Labeled.Count,
                PseudoImages = samples.Pseudo.Count,
                LabeledPerBatch = loader.LabeledPerBatch,
                SetupSeconds = setup,
                LoadAverage = [MachineDescription.LoadAverage()],
            };

            var kd = TrainingObjectives.Create(new ObjectiveOptions());
            var curriculum = new DistillationCurriculum(new ObjectiveOptions().Curriculum);
            var ce = TrainingObjectives.Create(new ObjectiveOptions { Name = TrainingObjectives.CrossEntropy });
            var runs = new (string Kind, Func<ITrainingData> Data, ITrainingObjective Objective, Func<int, int, ObjectiveSchedule>? Schedule)[]
            {
                (DistillEpochRun.Loader, () => loader, kd, curriculum.At),
                (DistillEpochRun.PremadeKd, () => new ReplayedBatches(premade), kd, curriculum.At),
                (DistillEpochRun.PremadeCe, () => new ReplayedBatches(plain), ce, null),
            };

            Console.WriteLine("Warm-up (not measured): a few pre-made batches with each objective ...");
            foreach (var (_, batches, objective, schedule) in new[] { (0, premade, kd, (Func<int, int, ObjectiveSchedule>?)curriculum.At), (0, plain, ce, null) })
            {
                await TrainEpochAsync(new ReplayedBatches([.. batches.Take(8)]), objective, schedule, eval, studentSpec, preprocessing, classes, Path.Combine(work, "warm-up"), cancellationToken);
            }

            for (var round = 1; round <= settings.Rounds; round++)
            {
                // ABC, CBA, ABC, ...: a steady drift in the machine's load cancels out over two rounds.
                var order = round % 2 == 1 ? runs : [.. Enumerable.Reverse(runs)];
                foreach (var (kind, data, objective, schedule) in order)
                {
                    var timed = await TrainEpochAsync(data(), objective, schedule, eval, studentSpec, preprocessing, classes, Path.Combine(work, Invariant($"{kind}-{round}")), cancellationToken);
                    var run = new DistillEpochRun
                    {
                        Kind = kind,
                        Round = round,
                        Images = timed.Images,
                        Batches = timed.Batches,
                        Seconds = timed.Seconds,
                        CpuSeconds = timed.CpuSeconds,
                        LoadAverage = MachineDescription.LoadAverage(),
                    };
                    result.Epochs.Add(run);
                    Console.WriteLine(Invariant($"  round {round} {kind,-10}: {run.Images} images in {run.Seconds:F1} s, {run.ImagesPerSecond:F0} img/s, {run.CpuMsPerImage:F2} CPU ms/img, load {run.LoadAverage:F1}"));
                }
            }

            result.LoadAverage.Add(MachineDescription.LoadAverage());
            if (loader.SkippedImages > 0)
            {
                throw new InvalidOperationException(Invariant($"The loader skipped {loader.SkippedImages} images; its epochs are not comparable with the pre-made ones."));
            }

            if (settings.Rss)
            {
                result.RssSmall = await RssAsync(stores, teacher, settings.RssSmall, work, setup, cancellationToken);
                result.RssLarge = await RssAsync(stores, teacher, settings.RssLarge, work, setup, cancellationToken);
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
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>One epoch of the shared <see cref="TrainingLoop"/> on a fresh student (same seed every time), timed over its training part.</summary>
    private async Task<TimedTrainingData> TrainEpochAsync(
        ITrainingData data, ITrainingObjective objective, Func<int, int, ObjectiveSchedule>? schedule, ITrainingData eval,
        ModelSpec spec, PreprocessingRecord preprocessing, IReadOnlyList<string> classes, string output, CancellationToken cancellationToken)
    {
        var timed = new TimedTrainingData(data);
        var loop = new TrainingLoop(new TrainingLoopOptions { Epochs = 1, BatchSize = settings.Batch, Seed = Seed }, objective);
        var result = await loop.RunAsync(
            new TrainingSetup
            {
                Architecture = spec,
                Train = timed,
                Eval = eval,
                OutputDirectory = output,
                Classes = classes,
                Preprocessing = preprocessing,
                Schedule = schedule,
            },
            cancellationToken);
        Directory.Delete(output, recursive: true);
        return result.Interrupted ? throw new OperationCanceledException(cancellationToken) : timed;
    }

    /// <summary>The same images and order, as a supervised batch: a pool image gets the teacher's arg-max as its label.</summary>
    private static LabeledBatch PlainLabeled(LabeledBatch batch)
    {
        var labels = new long[batch.Count];
        for (var i = 0; i < labels.Length; i++)
        {
            labels[i] = batch.Labels[i] >= 0 ? batch.Labels[i] : ArgMax(batch.TeacherLogits.AsSpan(i * batch.TeacherClasses, batch.TeacherClasses));
        }

        return new LabeledBatch(batch.Pixels, labels, batch.Channels, batch.Height, batch.Width);
    }

    private static int ArgMax(ReadOnlySpan<float> row)
    {
        var best = 0;
        for (var i = 1; i < row.Length; i++)
        {
            if (row[i] > row[best])
            {
                best = i;
            }
        }

        return best;
    }

    private async Task<ChildDistillResult> RssAsync(ObjectStoreFactory stores, InferenceModel teacher, int pool, string work, Dictionary<string, double> setup, CancellationToken cancellationToken)
    {
        var (root, images) = await EnsureDatasetAsync(stores, settings.RssLabeled, pool, setup, cancellationToken);
        var labels = FileUri(Path.Combine(work, Invariant($"labels-rss-{pool}")));
        setup[Invariant($"label-rss-{pool}")] = await LabelAsync(stores, teacher, root + DatasetLayout.UnlabeledPrefix, labels, images, cancellationToken);
        Console.WriteLine(Invariant($"Peak RSS: kddata-trainer distill over {settings.RssLabeled} labeled + {pool} pseudo-labeled images in a child process, stopped {settings.RssSeconds:F0} s into training ..."));
        var child = Path.Combine(work, Invariant($"child-{pool}"));
        Directory.CreateDirectory(child);
        var result = await ChildDistillProcess.RunAsync(root, labels, images, child, settings, cancellationToken);
        Console.WriteLine(Invariant($"  peak RSS {result.PeakRssKiB / 1024.0:F1} MiB ({result.PseudoRows} pseudo-labeled rows, exit {result.ExitCode})"));
        return result;
    }

    /// <summary>
    /// Imports (or reuses) about <paramref name="labeled"/> labeled + <paramref name="pool"/> pool train images and a small
    /// test split; returns the root and the pool's actual size (the labeled split is stratified, rounded per class).
    /// </summary>
    private async Task<(string Root, int Pool)> EnsureDatasetAsync(ObjectStoreFactory stores, int labeled, int pool, Dictionary<string, double> setup, CancellationToken cancellationToken)
    {
        var name = Invariant($"fashion-mnist-distill-{labeled}-{pool}");
        var root = FileUri(Path.Combine(Path.GetFullPath(settings.DataDirectory), name));
        Console.WriteLine(Invariant($"Dataset of {labeled} labeled + {pool} pool images in {root} (imported once, then reused; not measured) ..."));
        var options = IdxImportOptions.FromDirectory(settings.IdxDirectory);
        options.LabeledFraction = (double)labeled / (labeled + pool);
        options.TrainLimit = labeled + pool;
        options.TestLimit = TestImages;
        var clock = Stopwatch.StartNew();
        var lastReport = Stopwatch.StartNew();
        var progress = new SynchronousProgress<int>(written =>
        {
            if (lastReport.Elapsed.TotalSeconds >= 10)
            {
                lastReport.Restart();
                Console.WriteLine(Invariant($"  importing: {written}/{labeled + pool + TestImages}"));
            }
        });
        var descriptor = await new IdxDatasetImporter(stores.Open(root)).ImportAsync(options, progress, cancellationToken);
        setup["import-" + name] = clock.Elapsed.TotalSeconds;
        return (root, descriptor.PoolCount);
    }

    /// <summary>The real Labeler engine over <paramref name="input"/>; 4 views per image as in the results table. Returns the seconds.</summary>
    private async Task<double> LabelAsync(ObjectStoreFactory stores, InferenceModel teacher, string input, string output, int images, CancellationToken cancellationToken)
    {
        Console.WriteLine(Invariant($"Labeling {images} pool images into {output} (not measured) ..."));
        var options = new LabelingOptions
        {
            Input = input,
            Output = output,
            Teacher = teacher.Source,
            BatchSize = settings.Batch,
            ViewsPerImage = 4,
            ViewScaleMin = 0.64,
        };
        var run = new LabelingRun(stores, teacher, options, new PartitionOptions { Index = 0, Count = 1 }, new ImageOptions { ResizeMode = ResizeMode.Stretch });
        var summary = await run.RunAsync(abort: cancellationToken);
        if (summary.Outcome != LabelingOutcome.Completed || summary.Errors > 0 || summary.Images != images)
        {
            throw new InvalidOperationException(Invariant($"Labeling {input} ended {summary.Outcome} with {summary.Images} images and {summary.Errors} errors; expected {images} images."));
        }

        Console.WriteLine(Invariant($"  {summary.Images} images in {summary.Seconds:F0} s ({summary.ImagesPerSecond:F0} img/s)"));
        return summary.Seconds;
    }

    private static async Task<(List<LabelRecord> Manifest, IReadOnlyList<string> Classes)> ReadDatasetAsync(IObjectStore dataset, CancellationToken cancellationToken)
    {
        var manifest = await DatasetManifest.ReadAsync(await dataset.ReadAllBytesAsync(DatasetLayout.ManifestKey, cancellationToken), $"{dataset.Location}{DatasetLayout.ManifestKey}", cancellationToken);
        var classes = JsonSerializer.Deserialize<string[]>(await dataset.ReadAllBytesAsync(DatasetLayout.ClassesKey, cancellationToken)) ?? [];
        return ([.. manifest], classes);
    }

    private async Task<string> WriteJsonAsync(DistillLoaderResult result, CancellationToken cancellationToken)
    {
        var directory = Path.GetFullPath(settings.OutputDirectory);
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, Invariant($"distill-loader-{result.StartedAt:yyyyMMdd'T'HHmmss'Z'}.json"));
        await File.WriteAllBytesAsync(path, JsonSerializer.SerializeToUtf8Bytes(result, Json), cancellationToken);
        return path;
    }

    internal static string Table(DistillLoaderResult r)
    {
        var s = r.Settings;
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));
        static string Verdict(double? ratio, double goal) => ratio is not { } x ? "-" : x <= goal ? "PASS" : "FAIL";

        Line($"Distillation loader benchmark: student {r.Student} ({r.StudentParameters} parameters), batch {s.Batch} ({r.LabeledPerBatch} labeled), {s.Threads} Torch threads, {s.DecodeWorkers} decode workers");
        Line($"Data: Fashion-MNIST, {r.LabeledImages} labeled + {r.PseudoImages} pseudo-labeled images (teacher: {r.Teacher}, 4 views per image)");
        Line($"Machine: {r.Machine}");
        Line($"Command: {r.Command}");
        Line($"");
        Line($"{"epoch",-12} {"round",5} {"images",7} {"seconds",8} {"img/s",7} {"CPU ms/img",10} {"load",5}");
        foreach (var e in r.Epochs)
        {
            Line($"{e.Kind,-12} {e.Round,5} {e.Images,7} {e.Seconds,8:F1} {e.ImagesPerSecond,7:F0} {e.CpuMsPerImage,10:F2} {e.LoadAverage,5:F1}");
        }

        Line($"");
        Line($"{"figure",-52} {"ratio",6} {"CPU ratio",9} {"goal",6} {"result",6}");
        var loaderGoal = "<=" + DistillLoaderResult.LoaderGoal.ToString("F2", CultureInfo.InvariantCulture);
        Line($"{"loader: real loader epoch / pre-made batches epoch",-52} {r.LoaderRatio,6:F3} {r.LoaderCpuRatio,9:F3} {loaderGoal,6} {Verdict(r.LoaderRatio, DistillLoaderResult.LoaderGoal),6}");
        foreach (var round in r.LoaderRounds)
        {
            // Every measured epoch, not only the mean: a round that renders more new teacher views than another is slower.
            var label = Invariant($"  round {round.Round}");
            Line($"{label,-52} {round.Ratio,6:F3} {round.CpuRatio,9:F3} {loaderGoal,6} {Verdict(round.Ratio, DistillLoaderResult.LoaderGoal),6}");
        }

        Line($"{"offline KD epoch / supervised (CE) epoch, same images",-52} {r.KdRatio,6:F3} {r.KdCpuRatio,9:F3} {"<=" + DistillLoaderResult.KdGoal.ToString("F2", CultureInfo.InvariantCulture),6} {Verdict(r.KdRatio, DistillLoaderResult.KdGoal),6}");
        if (r.RssSmall is { } small && r.RssLarge is { } large)
        {
            Line($"{Invariant($"peak RSS {large.PseudoRows} / {small.PseudoRows} pseudo-labeled rows"),-52} {r.RssRatio,6:F3} {"",9} {"<=" + DistillLoaderResult.RssGoal.ToString("F2", CultureInfo.InvariantCulture),6} {Verdict(r.RssRatio, DistillLoaderResult.RssGoal),6}");
            foreach (var run in new[] { small, large })
            {
                Line($"  kddata-trainer distill, {run.LabeledRows} labeled + {run.PseudoRows} pseudo-labeled rows: VmHWM {run.PeakRssKiB / 1024.0:F1} MiB, {run.LoadPeakRssKiB / 1024.0:F1} MiB when training started ({run.TrainingSeconds:F0} s of training, {run.Seconds:F0} s in all, exit {run.ExitCode})");
            }
        }

        Line($"(ratios of the mean epoch times over the rounds; CPU ratio = the same with process CPU time, steadier on a shared machine)");
        var busy = r.LoadAverage.Concat(r.Epochs.Select(e => e.LoadAverage)).Any(l => l > Math.Max(r.Machine.LogicalCores, s.Threads) + 1);
        Line($"Load average (1 min) at start and end: {string.Join(" / ", r.LoadAverage.Select(l => l.ToString("F1", CultureInfo.InvariantCulture)))} on {r.Machine.LogicalCores} cores{(busy ? " (above what the bench itself explains: other work shared the machine, figures are noisy)" : string.Empty)}");
        Line($"Set-up (not measured): {string.Join(", ", r.SetupSeconds.Select(i => $"{i.Key} {i.Value:F0} s"))}; total bench time {r.TotalSeconds:F0} s");
        return text.ToString();
    }

    private static string FileUri(string directory) => new Uri(Path.GetFullPath(directory).TrimEnd('/') + "/").AbsoluteUri;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
