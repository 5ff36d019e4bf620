using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using KdData.Datasets;
using KdData.Distillation;
using KdData.Imaging;
using KdData.Labeling;
using KdData.Models;
using KdData.Objectives;
using KdData.Storage;
using KdData.Training;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace KdData.Bench;

/// <summary>
/// <c>distill-packed</c> (issue 21): one distillation epoch over the same Fashion-MNIST split imported loose and packed
/// (Parquet and/or tar shards, keys <c>&lt;shard&gt;#&lt;row&gt;</c>), interleaved (loose, packed, loose, packed, ...), with
/// the real channel-fed <see cref="DistillationData"/>, the KD objective and the student step of <c>distill-loader</c>.
/// Each run opens its caches as <c>DistillationInputs</c> does (<see cref="ImageByteCache.ForStore"/> over one
/// <c>Trainer:Data:CacheDirectory</c> kept across rounds) and calls <see cref="ImageByteCache.PrepareAsync"/>, timed
/// apart from the epoch: in round 1 it unpacks the shards (a run pays it once), later rounds find them unpacked.
/// </summary>
internal sealed class DistillPackedBenchmark(DistillPackedSettings settings, string command)
{
    private const int TestImages = 256;
    private const int Seed = 42;
    private const string Loose = "loose";

    private static readonly ImageOptions Imaging = new()
    {
        OutputSize = 28,
        ResizeSize = 28,
        Channels = 1,
        Mean = [0.2860f],
        Std = [0.3530f],
    };

    private sealed record Input(string Kind, IObjectStore Dataset, DistillationSamples Samples, int Classes);

    private sealed record Run(string Kind, int Round, double PrepareSeconds, long Images, double Seconds, double CpuSeconds, double Load)
    {
        public double ImagesPerSecond => Images / Seconds;

        public double CpuMsPerImage => CpuSeconds * 1000 / Images;
    }

    public async Task RunAsync(CancellationToken cancellationToken = default)
    {
        var total = Stopwatch.StartNew();
        var started = DateTimeOffset.UtcNow;
        set_num_threads(settings.Threads);
        var machine = MachineDescription.Current();
        var cpu = CpuInfo.Current();
        var loadStart = MachineDescription.LoadAverage();
        Console.WriteLine($"Machine: {machine}; {cpu}, {cpu.VectorLevel}");
        var work = Path.Combine(Path.GetTempPath(), "kddata-bench-distill-packed-" + Guid.NewGuid().ToString("N"));
        var cacheDirectory = Path.Combine(work, "cache");
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

            var formats = new List<DatasetFormat> { DatasetFormat.Loose };
            formats.AddRange(settings.Formats);
            var roots = new List<(DatasetFormat Format, string Root, int Pool)>();
            foreach (var format in formats)
            {
                var (root, pool) = await EnsureDatasetAsync(stores, format, setup, cancellationToken);
                roots.Add((format, root, pool));
            }

            var (_, classes) = await ReadDatasetAsync(stores.Open(roots[0].Root), cancellationToken);
            var teacherSpec = new ModelSpec { Name = "convnet", NumClasses = classes.Count, InChannels = Imaging.Channels, Width = settings.Width };
            var (teacherPath, _) = await BenchTeacher.CreateAsync(Path.Combine(work, "teacher"), teacherSpec, preprocessing, classes, cancellationToken);
            using var teacher = await InferenceModel.LoadAsync(stores, teacherPath, CPU, cancellationToken);

            var inputs = new List<Input>();
            foreach (var (format, root, pool) in roots)
            {
                var kind = DatasetDescriptor.FormatName(format);
                var labels = FileUri(Path.Combine(work, "labels-" + kind));
                setup["label-" + kind] = await LabelAsync(stores, teacher, root + DatasetLayout.UnlabeledPrefix, labels, pool, cancellationToken);
                var dataset = stores.Open(root);
                var (manifest, _) = await ReadDatasetAsync(dataset, cancellationToken);
                var reader = new ShardSetReader(stores, new ShardSelectionOptions { Locations = { labels } });
                var softTargets = await reader.ReadAsync(classes, preprocessing, cancellationToken);
                var samples = DistillationSamples.Build(
                    dataset,
                    [.. manifest.Where(r => r.Split == DatasetSplits.Train)],
                    [.. manifest.Where(r => r.Split == DatasetSplits.Test)],
                    softTargets);
                Console.WriteLine(Invariant($"{kind}: {samples.Labeled.Count} labeled + {samples.Pseudo.Count} pseudo-labeled images, e.g. key {samples.Labeled[0].Key}"));
                if (inputs.Count > 0 && (samples.Labeled.Count != inputs[0].Samples.Labeled.Count || samples.Pseudo.Count != inputs[0].Samples.Pseudo.Count))
                {
                    throw new InvalidOperationException($"The {kind} import does not hold the loose import's split; the epochs would not be comparable.");
                }

                inputs.Add(new Input(kind, dataset, samples, classes.Count));
            }

            // Evaluation (not timed) on the loose test split, the same for every run.
            var looseTest = (await ReadDatasetAsync(inputs[0].Dataset, cancellationToken)).Manifest.Where(r => r.Split == DatasetSplits.Test).ToList();
            var eval = await InMemoryTrainingData.LoadAsync(
                new StoreTrainingData(ImageByteCache.ForStore(inputs[0].Dataset, null), looseTest, Imaging, new TrainingDataOptions(), settings.Batch, training: false, Seed),
                settings.Batch,
                cancellationToken);

            var kd = TrainingObjectives.Create(new ObjectiveOptions());
            var curriculum = new DistillationCurriculum(new ObjectiveOptions().Curriculum);

            Console.WriteLine("Warm-up (not measured): 8 batches of each input ...");
            foreach (var input in inputs)
            {
                var loader = await OpenAsync(input, cacheDirectory, cancellationToken);
                var batches = new List<LabeledBatch>();
                await foreach (var batch in loader.Data.ReadEpochAsync(1, cancellationToken))
                {
                    batches.Add(batch);
                    if (batches.Count == 8)
                    {
                        break;
                    }
                }

                await TrainEpochAsync(new ReplayedBatches(batches), kd, curriculum.At, eval, teacherSpec, preprocessing, classes, Path.Combine(work, "warm-up"), cancellationToken);
            }

            // The warm-up unpacked the shards; start from an empty cache, as a user's first run does.
            if (Directory.Exists(cacheDirectory))
            {
                Directory.Delete(cacheDirectory, recursive: true);
            }

            var runs = new List<Run>();
            for (var round = 1; round <= settings.Rounds; round++)
            {
                foreach (var input in inputs)
                {
                    var (data, prepare) = await OpenAsync(input, cacheDirectory, cancellationToken);
                    var timed = await TrainEpochAsync(data, kd, curriculum.At, eval, teacherSpec, preprocessing, classes, Path.Combine(work, Invariant($"{input.Kind}-{round}")), cancellationToken);
                    if (data.SkippedImages > 0)
                    {
                        throw new InvalidOperationException(Invariant($"The {input.Kind} loader skipped {data.SkippedImages} images; its epoch is not comparable."));
                    }

                    var run = new Run(input.Kind, round, prepare, timed.Images, timed.Seconds, timed.CpuSeconds, MachineDescription.LoadAverage());
                    runs.Add(run);
                    Console.WriteLine(Invariant($"  round {round} {run.Kind,-8}: prepare {run.PrepareSeconds:F2} s, {run.Images} images in {run.Seconds:F1} s, {run.ImagesPerSecond:F0} img/s, {run.CpuMsPerImage:F2} CPU ms/img, load {run.Load:F1}"));
                }
            }

            var loadEnd = MachineDescription.LoadAverage();
            var text = Table(runs, inputs, machine, cpu, loadStart, loadEnd, started, setup, total.Elapsed.TotalSeconds);
            Console.WriteLine();
            Console.Write(text);
            if (settings.TablePath is { } path)
            {
                await File.WriteAllTextAsync(path, text, cancellationToken);
                Console.WriteLine($"Written: {path}");
            }
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>What <c>DistillationInputs</c> does before training: open the caches, prepare (unpack) the keys, make the loader.</summary>
    private async Task<(DistillationData Data, double PrepareSeconds)> OpenAsync(Input input, string cacheDirectory, CancellationToken cancellationToken)
    {
        var samples = input.Samples;
        var clock = Stopwatch.StartNew();
        var caches = samples.Stores.Select(s => ImageByteCache.ForStore(s, cacheDirectory)).ToList();
        await caches[0].PrepareAsync(samples.Labeled.Select(s => s.Key), null, cancellationToken);
        for (var source = 1; source < caches.Count; source++)
        {
            var store = source;
            await caches[source].PrepareAsync(samples.Pseudo.Where(p => p.Source == store).Select(p => p.Key), null, cancellationToken);
        }

        if (caches.Count == 1)
        {
            await caches[0].PrepareAsync(samples.Pseudo.Select(p => p.Key), null, cancellationToken);
        }

        var prepare = clock.Elapsed.TotalSeconds;
        var data = new DistillationData(caches, samples.Labeled, samples.Pseudo, input.Classes, Imaging,
            new TrainingDataOptions { DecodeWorkers = settings.DecodeWorkers }, new DistillationMixOptions(), settings.Batch, Seed);
        return (data, prepare);
    }

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

    private async Task<(string Root, int Pool)> EnsureDatasetAsync(ObjectStoreFactory stores, DatasetFormat format, Dictionary<string, double> setup, CancellationToken cancellationToken)
    {
        var suffix = format == DatasetFormat.Loose ? string.Empty : "-" + DatasetDescriptor.FormatName(format);
        var name = Invariant($"fashion-mnist-distill-{settings.Labeled}-{settings.Pool}{suffix}");
        var root = FileUri(Path.Combine(Path.GetFullPath(settings.DataDirectory), name));
        Console.WriteLine(Invariant($"Dataset ({DatasetDescriptor.FormatName(format)}) in {root} (imported once, then reused; not measured) ..."));
        var options = IdxImportOptions.FromDirectory(settings.IdxDirectory);
        options.LabeledFraction = (double)settings.Labeled / (settings.Labeled + settings.Pool);
        options.TrainLimit = settings.Labeled + settings.Pool;
        options.TestLimit = TestImages;
        options.Format = format;
        var clock = Stopwatch.StartNew();
        var descriptor = await new IdxDatasetImporter(stores.Open(root)).ImportAsync(options, null, cancellationToken);
        setup["import-" + DatasetDescriptor.FormatName(format)] = clock.Elapsed.TotalSeconds;
        return (root, descriptor.PoolCount);
    }

    private async Task<double> LabelAsync(ObjectStoreFactory stores, InferenceModel teacher, string input, string output, int images, CancellationToken cancellationToken)
    {
        Console.WriteLine(Invariant($"Labeling {images} pool images of {input} (not measured) ..."));
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

        return summary.Seconds;
    }

    private static async Task<(List<LabelRecord> Manifest, IReadOnlyList<string> Classes)> ReadDatasetAsync(IObjectStore dataset, CancellationToken cancellationToken)
    {
        var manifest = await DatasetManifest.ReadAsync(await dataset.ReadAllBytesAsync(DatasetLayout.ManifestKey, cancellationToken), $"{dataset.Location}{DatasetLayout.ManifestKey}", cancellationToken);
        var classes = JsonSerializer.Deserialize<string[]>(await dataset.ReadAllBytesAsync(DatasetLayout.ClassesKey, cancellationToken)) ?? [];
        return ([.. manifest], classes);
    }

    private string Table(
        List<Run> runs, List<Input> inputs, MachineDescription machine, CpuInfo cpu, double loadStart, double loadEnd,
        DateTimeOffset started, Dictionary<string, double> setup, double totalSeconds)
    {
        var text = new StringBuilder();
        void Line(FormattableString line) => text.AppendLine(line.ToString(CultureInfo.InvariantCulture));

        Line($"# Distillation epoch: packed dataset vs loose files (issue 21)");
        Line($"");
        Line($"Written by `bench/distillation/distill-packed.sh`; date {started:yyyy-MM-dd HH:mm} UTC.");
        Line($"");
        Line($"- Command: `{command}`");
        Line($"- Machine: {machine}; {cpu}, {cpu.VectorLevel}");
        Line($"- Load average (1 min) at start / end: {loadStart:F2} / {loadEnd:F2} on {machine.LogicalCores} cores");
        Line($"- Data: Fashion-MNIST, {inputs[0].Samples.Labeled.Count} labeled + {inputs[0].Samples.Pseudo.Count} pseudo-labeled images (random convnet teacher, 4 views per image), the same split in every import; student convnet width {settings.Width}, batch {settings.Batch}, {settings.Threads} Torch threads, {settings.DecodeWorkers} decode worker(s), seed {Seed}, KD objective");
        Line($"- Each run: a fresh student, one epoch of the real `DistillationData` + student step (`TrainingLoop`), training part timed. Caches opened as `DistillationInputs` does (`ImageByteCache.ForStore` over one `Trainer:Data:CacheDirectory` kept across rounds) and `PrepareAsync` timed apart (\"prepare\"): in round 1 it unpacks the shards (paid once a run), later rounds find them unpacked. Loose files in a local folder are not cached.");
        Line($"");
        Line($"| round | input | prepare s | epoch s | images | img/s | CPU ms/img | load |");
        Line($"|---:|---|---:|---:|---:|---:|---:|---:|");
        foreach (var r in runs)
        {
            Line($"| {r.Round} | {r.Kind} | {r.PrepareSeconds:F2} | {r.Seconds:F1} | {r.Images} | {r.ImagesPerSecond:F0} | {r.CpuMsPerImage:F2} | {r.Load:F1} |");
        }

        Line($"");
        Line($"| packed / loose, same round | epoch-time ratio | CPU ratio | first-epoch ratio incl. prepare |");
        Line($"|---|---:|---:|---:|");
        var verdicts = new List<string>();
        foreach (var kind in inputs.Skip(1).Select(i => i.Kind))
        {
            var ratios = new List<double>();
            var cpuRatios = new List<double>();
            for (var round = 1; round <= settings.Rounds; round++)
            {
                var loose = runs.Single(r => r.Round == round && r.Kind == Loose);
                var packed = runs.Single(r => r.Round == round && r.Kind == kind);
                var ratio = packed.Seconds / loose.Seconds;
                var cpuRatio = packed.CpuSeconds / loose.CpuSeconds;
                ratios.Add(ratio);
                cpuRatios.Add(cpuRatio);
                var first = round == 1 ? ((packed.Seconds + packed.PrepareSeconds) / (loose.Seconds + loose.PrepareSeconds)).ToString("F3", CultureInfo.InvariantCulture) : "-";
                Line($"| {kind} / loose, round {round} | {ratio:F3} | {cpuRatio:F3} | {first} |");
            }

            var mean = ratios.Average();
            var median = Median(ratios);
            var best = runs.Where(r => r.Kind == kind).Min(r => r.Seconds) / runs.Where(r => r.Kind == Loose).Min(r => r.Seconds);
            var verdict = mean <= 1.0 ? "PASS" : "MISS";
            Line($"| **{kind} / loose, mean of {ratios.Count}** | **{mean:F3}** (spread {ratios.Min():F3}-{ratios.Max():F3}) | {cpuRatios.Average():F3} | |");
            Line($"| {kind} / loose, median of the pairs | {median:F3} | {Median(cpuRatios):F3} | |");
            Line($"| {kind} / loose, fastest epoch over fastest epoch | {best:F3} | | |");
            verdicts.Add(Invariant($"{kind}: mean epoch-time ratio {mean:F3} (pairs {string.Join(", ", ratios.Select(x => x.ToString("F3", CultureInfo.InvariantCulture)))}; median {median:F3}, fastest/fastest {best:F3}), goal mean <= 1.000: **{verdict}**"));
        }

        Line($"");
        foreach (var v in verdicts)
        {
            Line($"- {v}");
        }

        Line($"");
        Line($"Set-up (not measured): {string.Join(", ", setup.Select(i => Invariant($"{i.Key} {i.Value:F0} s")))}; total bench time {totalSeconds:F0} s.");
        return text.ToString();
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[(sorted.Count / 2) - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string FileUri(string directory) => new Uri(Path.GetFullPath(directory).TrimEnd('/') + "/").AbsoluteUri;

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
