using System.Globalization;
using System.Text.Json;
using KdData.Hosting;
using KdData.Records;
using Microsoft.Extensions.Options;

namespace KdData.Trainer;

/// <summary>
/// <c>kddata-trainer sweep</c>: a grid of <c>distill</c> runs, one per point, each with its own output folder
/// (<c>&lt;output&gt;/point-NNN</c>); then a summary (<see cref="SweepSummary"/>).
/// </summary>
/// <remarks>
/// <para>Points run in this process, one after another, each in its own Generic Host built exactly as the
/// <c>distill</c> command builds one (<see cref="TrainerCommandLine.AddServices"/> with the distill entry of the
/// command table), configured with this host's effective settings plus the point's grid values and output folder on
/// top. So a point is the distill stage itself (same options, validation, job class, resume and exit codes) with no
/// dependence on how the program was launched (dotnet run, apphost, container, test host), and TorchSharp and .NET
/// start once. Nothing leaks between points: the loop seeds torch from the configured seed at the start of every run
/// and reseeds it per step, and each point's host and tensors are disposed before the next. The price is isolation:
/// a native crash ends the sweep, which is then simply run again (finished points are skipped, an interrupted point
/// resumes from its <c>last</c> checkpoint). Parallelism comes from scale-out instead (<c>--index</c>, one point per
/// pod), where each point is its own process anyway.</para>
/// <para>Resume: a point whose folder holds <c>sweep-point.json</c> with the same settings is finished and skipped; one
/// with different settings stops the sweep with exit 2 (the folder belongs to another grid).</para>
/// </remarks>
public sealed class SweepJob : JobService
{
    public const string PointFile = "sweep-point.json";

    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    private readonly SweepOptions _options;
    private readonly IConfiguration _configuration;
    private readonly StageRunner _stages;

    public SweepJob(IOptions<SweepOptions> options, IConfiguration configuration, IHostApplicationLifetime lifetime, JobOutcome outcome, ILoggerFactory loggerFactory)
        : base(lifetime, outcome, loggerFactory.CreateLogger<SweepJob>())
    {
        _options = options.Value;
        _configuration = configuration;
        _stages = new StageRunner(configuration);
    }

    protected override async Task<int> RunJobAsync(CancellationToken stoppingToken)
    {
        var grid = Prepare();
        var selected = _options.Index is { } index ? [grid.Points[index]] : grid.Points;
        Logger.LogInformation("Sweep of {Points} points over {Axes}; running {Selected} into {Output}",
            grid.Points.Count, string.Join(" x ", grid.Axes.Select(a => $"{a.Key} ({a.Values.Count})")), _options.Index is { } i ? $"point {i} only" : "all", Path.GetFullPath(_options.Output));

        var results = new List<SweepPointResult>();
        foreach (var point in selected)
        {
            if (await ReadFinishedAsync(point, stoppingToken) is { } done)
            {
                Logger.LogInformation("{Point} already finished ({Settings}): best accuracy {Accuracy:F4}; skipped", point.Name, Describe(point), done.BestAccuracy);
                results.Add(done);
                continue;
            }
            if (stoppingToken.IsCancellationRequested)
            {
                return ExitCodes.Interrupted;
            }

            Logger.LogInformation("{Point} of {Count}: {Settings}", point.Name, grid.Points.Count, Describe(point));
            var code = await RunPointAsync(point, stoppingToken);
            switch (code)
            {
                case ExitCodes.Success:
                    var result = await CompleteAsync(point, stoppingToken);
                    Logger.LogInformation("{Point} finished: best accuracy {Accuracy:F4} at epoch {Epoch}", point.Name, result.BestAccuracy, result.BestEpoch);
                    results.Add(result);
                    break;
                case ExitCodes.Interrupted:
                    Logger.LogWarning("{Point} interrupted; its progress is saved. Run the sweep again to continue.", point.Name);
                    return ExitCodes.Interrupted;
                default:
                    Logger.LogError("{Point} ({Settings}) failed with exit code {Code} (see its log above); the sweep stops. Finished points are kept.", point.Name, Describe(point), code);
                    return code;
            }
        }

        if (_options.Index is not null)
        {
            // Scale-out: whichever run finishes the last point writes the summary (each writes its marker before
            // looking, so the last to finish sees every marker; two finishing together write the same files).
            results = await FinishedPointsAsync(grid, stoppingToken);
            if (results.Count < grid.Points.Count)
            {
                Logger.LogInformation("Point {Index} done; {Finished} of {Count} points finished. The run that finishes the last one writes the summary.",
                    _options.Index, results.Count, grid.Points.Count);
                return ExitCodes.Success;
            }
        }
        var best = await SweepSummary.WriteAsync(_options.Output, grid, results, stoppingToken);
        Logger.LogInformation("Sweep done: best {Point} ({Settings}) at {Accuracy:F4}; summary in {Folder} ({Json}, {Markdown}, {Heatmap})",
            best.Name, string.Join(", ", best.Settings.Select(s => $"{s.Key}={s.Value}")), best.BestAccuracy, Path.GetFullPath(_options.Output),
            SweepSummary.JsonFile, SweepSummary.MarkdownFile, SweepSummary.HeatmapFile);
        return ExitCodes.Success;
    }

    /// <summary>Parses the grid and checks every axis key and every point's settings before anything trains.</summary>
    private SweepGrid Prepare()
    {
        SweepGrid grid;
        try
        {
            grid = SweepGrid.Parse(_options.Grid);
        }
        catch (FormatException e)
        {
            throw new InvalidInputException(e.Message);
        }
        for (var a = 0; a < grid.Axes.Count; a++)
        {
            if (SweepSettings.Check(grid.Axes[a].Key) is { } problem)
            {
                throw new InvalidInputException($"{SweepOptions.SectionName}:Grid:{a}: {problem}");
            }
        }
        if (_options.Index is { } index && index >= grid.Points.Count)
        {
            throw new InvalidInputException($"{SweepOptions.SectionName}:Index {index} is outside the grid's {grid.Points.Count} points (0..{grid.Points.Count - 1}).");
        }
        foreach (var point in grid.Points)
        {
            var settings = new ConfigurationBuilder().AddConfiguration(_configuration).AddInMemoryCollection(PointSettings(point)).Build();
            if (SweepSettings.Validate(settings) is [var first, ..])
            {
                throw new InvalidInputException($"{point.Name} ({Describe(point)}): {first}");
            }
        }
        return grid;
    }

    private Task<int> RunPointAsync(SweepPoint point, CancellationToken stoppingToken) =>
        _stages.RunAsync(TrainerCommands.Distill, PointSettings(point), stoppingToken);

    private Dictionary<string, string?> PointSettings(SweepPoint point)
    {
        var settings = point.Settings.ToDictionary(s => s.Key, s => (string?)s.Value, StringComparer.OrdinalIgnoreCase);
        settings[$"{DistillOptions.SectionName}:{nameof(DistillOptions.Output)}"] = PointFolder(point);
        return settings;
    }

    private string PointFolder(SweepPoint point) => Path.Combine(_options.Output, point.Name);

    private async Task<SweepPointResult?> ReadFinishedAsync(SweepPoint point, CancellationToken cancellationToken)
    {
        var path = Path.Combine(PointFolder(point), PointFile);
        if (!File.Exists(path))
        {
            return null;
        }
        SweepPointResult? result;
        try
        {
            result = JsonSerializer.Deserialize<SweepPointResult>(await File.ReadAllBytesAsync(path, cancellationToken));
        }
        catch (JsonException e)
        {
            throw new InvalidInputException($"{path} is not a sweep point record ({e.Message}); delete it to rerun {point.Name}.");
        }
        if (result is null || !SameSettings(result.Settings, point.Settings))
        {
            throw new InvalidInputException(
                $"{path} records {(result is null ? "nothing" : string.Join(", ", result.Settings.Select(s => $"{s.Key}={s.Value}")))}, not this grid's {point.Name} ({Describe(point)}): use another {SweepOptions.SectionName}:Output for a different grid.");
        }
        return result;
    }

    private async Task<List<SweepPointResult>> FinishedPointsAsync(SweepGrid grid, CancellationToken cancellationToken)
    {
        var finished = new List<SweepPointResult>();
        foreach (var point in grid.Points)
        {
            try
            {
                if (await ReadFinishedAsync(point, cancellationToken) is { } result)
                {
                    finished.Add(result);
                }
            }
            catch (InvalidInputException e)
            {
                Logger.LogWarning("No summary: {Reason}", e.Message);
                return [];
            }
        }
        return finished;
    }

    private static bool SameSettings(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(kv => b.TryGetValue(kv.Key, out var v) && string.Equals(v, kv.Value, StringComparison.Ordinal));

    /// <summary>Reads the finished point's metrics.jsonl and writes its <see cref="PointFile"/> (the marker of completion).</summary>
    private async Task<SweepPointResult> CompleteAsync(SweepPoint point, CancellationToken cancellationToken)
    {
        var folder = PointFolder(point);
        var epochs = new SortedDictionary<int, (double Accuracy, double Seconds)>();
        foreach (var line in await File.ReadAllLinesAsync(Path.Combine(folder, ArtifactFiles.Metrics), cancellationToken))
        {
            if (string.IsNullOrWhiteSpace(line))
            {
                continue;
            }
            using var json = JsonDocument.Parse(line);
            var root = json.RootElement;
            // A resumed run may log an epoch again; the last line of an epoch is the one that counts.
            epochs[root.GetProperty("epoch").GetInt32()] = (Number(root.GetProperty("eval_accuracy")), Number(root.GetProperty("seconds")));
        }
        if (epochs.Count == 0)
        {
            throw new InvalidDataException($"{point.Name} finished but {Path.Combine(folder, ArtifactFiles.Metrics)} has no epochs.");
        }
        var best = epochs.OrderByDescending(e => e.Value.Accuracy).ThenBy(e => e.Key).First();
        var result = new SweepPointResult
        {
            Index = point.Index,
            Name = point.Name,
            Settings = point.Settings,
            BestAccuracy = best.Value.Accuracy,
            BestEpoch = best.Key,
            LastAccuracy = epochs.Last().Value.Accuracy,
            Epochs = epochs.Count,
            Seconds = epochs.Values.Sum(e => e.Seconds),
        };
        await SweepSummary.WriteAtomicallyAsync(Path.Combine(folder, PointFile), JsonSerializer.SerializeToUtf8Bytes(result, Indented), cancellationToken);
        return result;
    }

    // A diverged epoch logs NaN as a named literal.
    private static double Number(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? double.Parse(value.GetString()!, CultureInfo.InvariantCulture) : value.GetDouble();

    private static string Describe(SweepPoint point) =>
        string.Join(", ", point.Settings.Select(s => string.Create(CultureInfo.InvariantCulture, $"{s.Key}={s.Value}")));
}
