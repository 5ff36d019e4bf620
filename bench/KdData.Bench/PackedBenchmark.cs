using System.Globalization;
using System.Text.Json;
using KdData.Datasets;
using KdData.Models;
using KdData.Storage;
using KdData.Testing;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace KdData.Bench;

/// <summary>
/// <c>packed</c> (issue 21, "Bench"): the real Labeler engine with the trivial teacher over the same Fashion-MNIST images
/// in Azurite, as loose PNG blobs and as packed files (Parquet image tables, WebDataset tar shards), alternating
/// loose, packed, loose, packed. Per run: images/s, CPU ms per image of our process and of Azurite's process tree apart,
/// and the committed output read back as exactly once.
/// <para>
/// The runs are in process, as in <c>labeler</c>, rather than in child processes: the process CPU delta around
/// <c>LabelingRun.RunAsync</c> is then the run's alone, without the runtime's start-up, host and configuration set-up,
/// teacher load and the JIT compilation of all of that, which in a child of a few seconds would be a large part of a
/// figure measured in hundredths of a millisecond per image. Nothing else in the process works during a run (a progress
/// line every 10 s); each run starts after a full garbage collection so it does not pay for the previous run's garbage,
/// and unmeasured warm-up runs compile the read paths first.
/// </para>
/// </summary>
internal sealed class PackedBenchmark(PackedBenchSettings settings, string command)
{
    private const string Container = "az://bench/";
    private const string WarmupContainer = "az://warmup/";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true };

    public async Task<PackedBenchResult> RunAsync(CancellationToken cancellationToken = default)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        set_num_threads(settings.Threads);
        var result = new PackedBenchResult
        {
            StartedAt = DateTimeOffset.UtcNow,
            Command = command,
            Machine = MachineDescription.Current(),
            Cpu = CpuInfo.Current(),
            Settings = settings,
            Teacher = BenchTeacher.Describe("trivial", 1),
        };
        Console.WriteLine($"CPU: {result.Cpu.Model}, cpu family {result.Cpu.Family}, {result.Cpu.VectorLevel}; {result.Machine}");

        var work = Path.Combine(Path.GetTempPath(), "kddata-bench-packed-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(work);
        try
        {
            var localStores = new ObjectStoreFactory(Options.Create(new StorageOptions()));
            var (teacherPath, _) = await BenchTeacher.CreateAsync(Path.Combine(work, "teacher"), "trivial", 1, cancellationToken);
            using var teacher = await InferenceModel.LoadAsync(localStores, teacherPath, CPU, cancellationToken);

            // Two Azurites: the loose blobs in one, the packed files in the other. Azurite re-saves its whole metadata file
            // (one JSON of every blob) after writes; with 60,000 loose blobs beside the packed files, that save, not the
            // packed reads, was most of its CPU per packed image. Apart, each input pays only for its own blobs.
            Console.WriteLine($"Starting two Azurites {AzuriteServer.Version} (loose blobs, packed files) ...");
            var azuriteData = settings.ReuseAzurite ? Path.Combine(Path.GetFullPath(settings.DataDirectory), "azurite") : null;
            await using var azurite = await AzuriteServer.StartAsync(RepoRoot(), azuriteData, cancellationToken);
            await using var azuritePacked = await AzuriteServer.StartAsync(RepoRoot(), azuriteData is null ? null : azuriteData + "-packed", cancellationToken);
            var looseStores = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = azurite.ConnectionString }));
            var packedStores = new ObjectStoreFactory(Options.Create(new StorageOptions { ConnectionString = azuritePacked.ConnectionString }));
            ObjectStoreFactory StoresOf(string kind) => kind == PackedBenchKinds.Loose ? looseStores : packedStores;
            int PidOf(string kind) => (kind == PackedBenchKinds.Loose ? azurite : azuritePacked).ProcessId ?? throw new InvalidOperationException("Azurite is not running.");

            var upload = System.Diagnostics.Stopwatch.StartNew();
            var train = TrainSet();
            var inputs = new Dictionary<string, (string Location, IReadOnlyList<ObjectInfo> Images)>(StringComparer.Ordinal);
            foreach (var kind in settings.Kinds)
            {
                var (location, images, size) = await UploadAsync(StoresOf(kind), Container, kind, settings.Images, train, cancellationToken);
                inputs[kind] = (location, images);
                result.Inputs[kind] = size;
            }

            var warmups = new Dictionary<string, string>(StringComparer.Ordinal);
            if (settings.Warmup > 0)
            {
                foreach (var kind in settings.Kinds)
                {
                    warmups[kind] = (await UploadAsync(StoresOf(kind), WarmupContainer, kind, settings.Warmup, train, cancellationToken)).Location;
                }
            }

            result.UploadSeconds = upload.Elapsed.TotalSeconds;
            Console.WriteLine(Invariant($"Inputs ready in {result.UploadSeconds:F0} s (not measured)"));

            foreach (var (kind, location) in warmups)
            {
                Console.WriteLine(Invariant($"Warm-up, {kind}: {settings.Warmup} images (not measured) ..."));
                await RunOnceAsync(StoresOf(kind), teacher, PidOf(kind), kind, location, Invariant($"az://labels/{result.StartedAt:yyyyMMdd'T'HHmmss}-warmup-{kind}/"), settings.Warmup, cancellationToken);
            }

            result.LoadAverage.Add(MachineDescription.LoadAverage());
            for (var round = 1; round <= settings.Rounds; round++)
            {
                foreach (var kind in settings.Kinds)
                {
                    var (location, images) = inputs[kind];
                    var output = Invariant($"az://labels/{result.StartedAt:yyyyMMdd'T'HHmmss}-r{round}-{kind}/");
                    Console.WriteLine(Invariant($"Round {round}, {kind}: {location} -> {output} ..."));
                    var load = MachineDescription.LoadAverage();
                    var measured = await RunOnceAsync(StoresOf(kind), teacher, PidOf(kind), kind, location, output, images.Count, cancellationToken);
                    var check = await CommittedOutputCheck.CheckAsync(StoresOf(kind).Open(output), teacher.Id, images, views: 1, cancellationToken);
                    var run = new PackedRunResult { Round = round, Kind = kind, Input = location, Output = output, LoadAverage = load, Run = measured, ExactlyOnce = check };
                    result.Runs.Add(run);
                    Console.WriteLine(Invariant($"  {measured.ImagesPerSecond:F0} img/s, ours {run.OurCpuMsPerImage:F3} + Azurite {run.AzuriteCpuMsPerImage:F3} CPU ms/img, exactly once: {(check.Intact ? "yes" : "NO: " + string.Join("; ", check.Problems.Take(3)))}"));
                }
            }

            result.LoadAverage.Add(MachineDescription.LoadAverage());
            if (settings.Stages)
            {
                var stageImages = Math.Min(settings.Images, 5000);
                Console.WriteLine(Invariant($"Stage CPU, loose: {stageImages} blobs from Azurite, one at a time ..."));
                result.Stages = [.. (await StageProfile.MeasureAsync(looseStores.Open(inputs[PackedBenchKinds.Loose].Location), stageImages, BenchTeacher.TrivialSize, 1, settings.Batch, cancellationToken))
                    .Select(st => new StageCpuResult("loose: " + st.Stage, st.CpuMsPerImage))];
                foreach (var kind in settings.Formats)
                {
                    Console.WriteLine(Invariant($"Stage CPU, {kind}: reading its files alone ..."));
                    result.Stages.AddRange(await PackedReadProfile.MeasureAsync(packedStores.Open(inputs[kind].Location), kind, PidOf(kind), cancellationToken));
                }

                Console.WriteLine("Stage CPU, the packed files' Azurite without requests and after one write ...");
                result.Stages.AddRange(await AzuriteAutosaveProfile.MeasureAsync(packedStores.Open("az://scratch/"), PidOf(PackedBenchKinds.Parquet), azuritePacked.DataDirectory, cancellationToken));
            }

            result.TotalSeconds = clock.Elapsed.TotalSeconds;
            var table = PackedReport.Table(result);
            Console.WriteLine();
            Console.Write(table);
            var jsonPath = Path.Combine(Path.GetFullPath(settings.OutputDirectory), Invariant($"packed-{result.StartedAt:yyyyMMdd'T'HHmmss'Z'}.json"));
            Directory.CreateDirectory(Path.GetDirectoryName(jsonPath)!);
            await File.WriteAllBytesAsync(jsonPath, JsonSerializer.SerializeToUtf8Bytes(result, Json), cancellationToken);
            Console.WriteLine($"Result: {jsonPath}");
            if (settings.TablePath.Length > 0)
            {
                var markdown = Path.GetFullPath(settings.TablePath);
                Directory.CreateDirectory(Path.GetDirectoryName(markdown)!);
                await File.WriteAllTextAsync(markdown, PackedReport.Markdown(result), cancellationToken);
                Console.WriteLine($"Table: {markdown}");
            }

            return result;
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>One Labeler run from a clean heap; Azurite's CPU is read from its process tree.</summary>
    private async Task<EndToEndResult> RunOnceAsync(
        ObjectStoreFactory stores, InferenceModel teacher, int azuritePid, string kind, string input, string output, int images, CancellationToken cancellationToken)
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var labeler = new LabelerBenchSettings
        {
            Images = images,
            Batch = settings.Batch,
            Threads = settings.Threads,
            DecodeWorkers = settings.DecodeWorkers,
            FetchConcurrency = settings.FetchConcurrency,
            Teacher = "trivial",
        };
        return await EndToEndRun.RunAsync(
            stores, teacher, kind, input, output, labeler,
            () => TimeSpan.FromSeconds(ProcessTreeCpu.Seconds(azuritePid)),
            o => o.PackedConcurrency = settings.PackedConcurrency,
            cancellationToken);
    }

    /// <summary>
    /// Puts the first <paramref name="images"/> train images into Azurite as <paramref name="kind"/> under
    /// <c>&lt;container&gt;&lt;kind&gt;/</c>; returns the Labeler's input location, the image keys (with the ETags) it
    /// must label, and what was uploaded.
    /// </summary>
    private async Task<(string Location, IReadOnlyList<ObjectInfo> Images, PackedInputSize Size)> UploadAsync(
        ObjectStoreFactory stores, string container, string kind, int images, Func<Task<(IdxArray Images, IdxArray Labels)>> train, CancellationToken cancellationToken)
    {
        // Named by what they hold, as the packed files' folder, so that inputs of another shape kept in Azurite's data
        // folder (--reuse-azurite) are never taken for these.
        var name = kind switch
        {
            PackedBenchKinds.Loose => Invariant($"loose-{images}"),
            PackedBenchKinds.Parquet => Invariant($"parquet-{images}-of-{settings.ShardImages}-rg{settings.RowGroup}"),
            _ => Invariant($"tar-{images}-of-{settings.ShardImages}"),
        };
        var root = container + name + "/";
        string location;
        if (kind == PackedBenchKinds.Loose)
        {
            // The import is create-only and returns at once when the same import is complete there.
            Console.WriteLine(Invariant($"Loose: {images} PNG blobs in {root} ..."));
            await BenchDataset.EnsureAsync(stores.Open(root), settings.IdxDirectory, images, cancellationToken);
            location = root + BenchDataset.Pool;
        }
        else
        {
            var files = PackedShards.Plan(kind, images, settings.ShardImages);
            var folder = Path.Combine(Path.GetFullPath(settings.DataDirectory), name);
            var written = await PackedShards.EnsureAsync(kind, folder, files, settings.RowGroup, train, cancellationToken);
            var uploaded = await PackedShards.UploadAsync(stores.Open(root), folder, files, cancellationToken);
            Console.WriteLine(Invariant($"{kind}: {files.Count} files in {root} ({(written ? "written now" : "written by an earlier run")}, {uploaded} uploaded now) ..."));
            location = root;
        }

        var listed = new List<ObjectInfo>();
        await foreach (var item in stores.Open(location).ListAllAsync(string.Empty, cancellationToken: cancellationToken))
        {
            listed.Add(item);
        }

        var size = new PackedInputSize(listed.Count, listed.Sum(i => i.Size));
        if (kind == PackedBenchKinds.Loose)
        {
            return (location, listed, size);
        }

        // A packed image is labeled under <file>#<member> with its file's ETag.
        var byName = listed.ToDictionary(i => i.Key, StringComparer.Ordinal);
        var members = PackedShards.Plan(kind, images, settings.ShardImages)
            .SelectMany(f => PackedShards.MemberKeys(kind, f).Select(key => byName[f.Name] with { Key = key, Size = 0 }))
            .ToList();
        return (location, members, size);
    }

    /// <summary>Reads the train images and labels once, on first use (not at all when every packed file is already written).</summary>
    private Func<Task<(IdxArray Images, IdxArray Labels)>> TrainSet()
    {
        Task<(IdxArray, IdxArray)>? loaded = null;
        return () => loaded ??= LoadAsync();

        async Task<(IdxArray, IdxArray)> LoadAsync()
        {
            var files = IdxImportOptions.FromDirectory(settings.IdxDirectory);
            return (await IdxReader.ReadFileAsync(files.TrainImages), await IdxReader.ReadFileAsync(files.TrainLabels));
        }
    }

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

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
