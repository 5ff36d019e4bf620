using System.Text.Json;
using KdData.Models;
using KdData.Storage;
using Microsoft.Extensions.Options;
using static TorchSharp.torch;

namespace KdData.Bench;

/// <summary>
/// <c>labeler-child</c>: one end-to-end labeling run in a fresh process, so its peak RSS (VmHWM) belongs
/// to that run alone. Prints <c>RESULT {json}</c> as its last line for the parent to read.
/// </summary>
internal static class ChildLabelingCommand
{
    public const string Name = "labeler-child";
    public const string ResultPrefix = "RESULT ";

    public static async Task<int> RunAsync(BenchArguments args, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(args);
        var input = args.GetString("input") ?? throw new ArgumentException("--input is required.");
        var teacherPath = args.GetString("teacher") ?? throw new ArgumentException("--teacher is required.");
        var settings = new LabelerBenchSettings
        {
            Images = args.GetInt("images", 0, 0, int.MaxValue),
            Batch = args.GetInt("batch", 128, 1, 65_536),
            Threads = args.GetInt("threads", 2, 1, 1024),
            DecodeWorkers = args.GetInt("decode-workers", 0, 0, 256),
            FetchConcurrency = args.GetInt("fetch", 16, 1, 1024),
        };
        args.RejectUnknown();

        set_num_threads(settings.Threads);
        var output = Path.Combine(Path.GetTempPath(), "kddata-bench-child-" + Guid.NewGuid().ToString("N"));
        try
        {
            var stores = new ObjectStoreFactory(Options.Create(new StorageOptions()));
            using var teacher = await InferenceModel.LoadAsync(stores, teacherPath, CPU, cancellationToken);
            var result = await EndToEndRun.RunAsync(stores, teacher, "child", input, new Uri(output + "/").AbsoluteUri, settings, cancellationToken: cancellationToken);
            var report = new ChildLabelingResult(result, PeakMemory.ReadVmHwmKiB());
            Console.WriteLine(ResultPrefix + JsonSerializer.Serialize(report));
            return 0;
        }
        finally
        {
            if (Directory.Exists(output))
            {
                Directory.Delete(output, recursive: true);
            }
        }
    }
}
