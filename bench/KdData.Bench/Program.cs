using KdData.Bench;

// dotnet run -c Release --project bench/KdData.Bench -- labeler [--images 10000] [--batch 128] [--threads 2] [--azurite true] [--rss true]
// dotnet run -c Release --project bench/KdData.Bench -- distill-loader [--labeled 6000] [--pool 12000] [--rounds 2] [--rss true]
// dotnet run -c Release --project bench/KdData.Bench -- distill-packed [--format parquet|tar|both] [--rounds 2]   (or: bash bench/distillation/distill-packed.sh)
// dotnet run -c Release --project bench/KdData.Bench -- outage [--images 12000] [--labeler PATH]   (or: bash bench/labeler/outage.sh)
// dotnet run -c Release --project bench/KdData.Bench -- packed [--images 60000] [--format both] [--rounds 2]   (or: bash bench/labeler/packed.sh)
KdData.Torch.TorchRuntime.Configure();
using var cancel = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    // First Ctrl+C: stop and clean up (Azurite, temp folders); a second one kills the process.
    e.Cancel = !cancel.IsCancellationRequested;
    cancel.Cancel();
};

try
{
    var arguments = BenchArguments.Parse(args);
    switch (arguments.Command)
    {
        case "labeler":
            await new LabelerBenchmark(LabelerBenchSettings.From(arguments), "dotnet run -c Release --project bench/KdData.Bench -- " + string.Join(' ', args)).RunAsync(cancel.Token);
            return 0;
        case "distill-loader":
            await new DistillLoaderBenchmark(DistillLoaderSettings.From(arguments), "dotnet run -c Release --project bench/KdData.Bench -- " + string.Join(' ', args)).RunAsync(cancel.Token);
            return 0;
        case "distill-packed":
            // bench/distillation/distill-packed.sh runs a private build and names it in KDDATA_BENCH_RUNNER, so the result file shows the command that ran.
            var distillRunner = Environment.GetEnvironmentVariable("KDDATA_BENCH_RUNNER") is { Length: > 0 } d ? d : "dotnet run -c Release --project bench/KdData.Bench --";
            await new DistillPackedBenchmark(DistillPackedSettings.From(arguments), distillRunner + " " + string.Join(' ', args)).RunAsync(cancel.Token);
            return 0;
        case "outage" when arguments.GetString("render") is { } json:
            var table = arguments.GetString("table") ?? new OutageBenchSettings().TablePath;
            arguments.RejectUnknown();
            await OutageReport.RenderAsync(json, table, cancel.Token);
            return 0;
        case "outage":
            // bench/labeler/outage.sh runs a private build and names it in KDDATA_BENCH_RUNNER, so the result file shows the command that ran.
            var runner = Environment.GetEnvironmentVariable("KDDATA_BENCH_RUNNER") is { Length: > 0 } r ? r : "dotnet run -c Release --project bench/KdData.Bench --";
            await new OutageBenchmark(OutageBenchSettings.From(arguments), runner + " " + string.Join(' ', args)).RunAsync(cancel.Token);
            return 0;
        case "packed":
            // bench/labeler/packed.sh runs a private build and names it in KDDATA_BENCH_RUNNER, so the result file shows the command that ran.
            var packedRunner = Environment.GetEnvironmentVariable("KDDATA_BENCH_RUNNER") is { Length: > 0 } p ? p : "dotnet run -c Release --project bench/KdData.Bench --";
            await new PackedBenchmark(PackedBenchSettings.From(arguments), packedRunner + " " + string.Join(' ', args)).RunAsync(cancel.Token);
            return 0;
        case ChildLabelingCommand.Name:
            return await ChildLabelingCommand.RunAsync(arguments, cancel.Token);
        default:
            Console.Error.WriteLine(
                """
                usage: dotnet run -c Release --project bench/KdData.Bench -- labeler|distill-loader|distill-packed|outage|packed [options]
                labeler:
                  --images N           Fashion-MNIST train images per throughput run (default 10000)
                  --batch N            teacher batch size (default 128)
                  --threads N          Torch intra-op threads (default 2)
                  --decode-workers N   Labeler decode workers (default 0 = one per core)
                  --fetch N            Labeler concurrent downloads (default 16)
                  --channels 1|3       teacher input channels (default 1)
                  --teacher resnet18|trivial  teacher (default resnet18; trivial = near-free forward pass at 28x28)
                  --stages true|false  single-thread CPU per pipeline stage on in-memory images first (default false)
                  --local true|false   end-to-end from the local store (default true)
                  --azurite true|false end-to-end from Azurite (default true; needs Node.js/npm)
                  --rss true|false     peak RSS of N vs --rss-images images, each in a child process (default false)
                  --rss-images N       images of the large RSS run (default 60000)
                  --teacher-seconds S  timed teacher-only seconds, before, between and after (default 20)
                  --data DIR           cache of imported datasets (default $TMPDIR/kddata-bench)
                  --idx DIR            Fashion-MNIST IDX files (default /usr/share/datasets/fashion-mnist)
                  --out DIR            JSON results (default out/bench)
                distill-loader (loader ratio, KD vs CE epoch, peak RSS of kddata-trainer distill):
                  --labeled N          labeled images of the loader runs (default 6000)
                  --pool N             pseudo-labeled pool images of the loader runs (default 12000)
                  --batch N            student batch size (default 128)
                  --threads N          Torch intra-op threads (default 2)
                  --width N            convnet student (and teacher) width (default 32)
                  --decode-workers N   distillation loader decode workers (default 1, as in the results table)
                  --rounds N           interleaved rounds of loader / pre-made KD / pre-made CE epochs (default 2)
                  --rss true|false     peak RSS of kddata-trainer distill, small vs large pool, child processes (default true)
                  --rss-small N        pool of the small RSS run (default 10000)
                  --rss-large N        pool of the large RSS run (default 54000)
                  --rss-labeled N      labeled images of both RSS runs (default 1000)
                  --rss-seconds S      seconds each RSS child trains before SIGTERM (default 60)
                  --data DIR, --idx DIR, --out DIR   as for labeler
                distill-packed (issue 21: a distill epoch over a packed dataset vs loose files, interleaved; writes bench/distillation/distill-packed.md via its script):
                  --format F           parquet, tar or both (default parquet; a round is loose, then each format)
                  --labeled N, --pool N, --batch N, --threads N, --width N, --decode-workers N   as for distill-loader
                  --rounds N           rounds of loose, packed (default 2: ABAB)
                  --table PATH         also write the markdown result there
                  --data DIR, --idx DIR   as for labeler
                outage (the real Labeler against an Azurite stopped and restarted mid-run; writes bench/labeler/outage.md):
                  --images N           Fashion-MNIST train images imported into Azurite and labeled per case (default 12000)
                  --labeler PATH       kddata-labeler.dll (default src/Labeler/bin/Release/net10.0/kddata-labeler.dll)
                  --durations LIST     outage lengths in seconds (default 10,20,40)
                  --offsets LIST       outage start, seconds before the next lease renewal (default 9.5,7.5,5,2.5,0.5)
                  --views N            Labeler views per image (default 8: keeps the teacher the bound, so commits meet the outage)
                  --fetch N            Labeler concurrent downloads (default 16, the Labeler's)
                  --batch N            Labeler batch size (default 64)
                  --commit-interval S  Labeler commit interval in seconds (default 1)
                  --exit-timeout S     seconds the Labeler may take after storage is back before it is killed (default 600)
                  --table PATH         markdown result (default bench/labeler/outage.md)
                  --idx DIR, --out DIR as for labeler (Labeler logs in <out>/outage/)
                  --render JSON        only write the table (--table) again from a run's JSON result
                packed (the Labeler with the trivial teacher over Azurite: loose PNG blobs vs Parquet / tar files, ABAB):
                  --images N           Fashion-MNIST train images, loose and packed alike (default 60000)
                  --format F           parquet, tar or both (default both; a round is loose, then each format)
                  --rounds N           rounds of loose, packed (default 2)
                  --shard-images N     images per packed file (default 10000)
                  --row-group N        rows per Parquet row group (default 1000)
                  --warmup N           images of one unmeasured warm-up run per input kind (default 2000; 0 = none)
                  --stages true|false  after the rounds, CPU per stage: loose over Azurite, reading each format's files alone, Azurite's autosave (default false)
                  --batch N, --threads N, --decode-workers N, --fetch N   as for labeler (defaults 128, 2, 0, 16)
                  --packed-concurrency N  packed files read at once (default 2, the Labeler's)
                  --data DIR           packed files written once and reused (default /var/tmp/kddata-bench/packed)
                  --reuse-azurite true|false  keep Azurite's data in <data>/azurite so a rerun skips the uploads (default true)
                  --table PATH         also write the markdown result there (default: none; packed.sh: bench/labeler/packed.md)
                  --idx DIR, --out DIR as for labeler
                """);
            return 2;
    }
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (OperationCanceledException) when (cancel.IsCancellationRequested)
{
    Console.Error.WriteLine("cancelled");
    return 130;
}
