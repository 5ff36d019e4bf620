using System.Text.Json;
using KdData.Datasets;
using KdData.Distillation;
using KdData.Models;
using KdData.Storage;
using static TorchSharp.torch;

namespace KdData.Evaluation;

/// <summary>
/// Everything <c>evaluate</c> reads before it looks at an image, loaded and cross-checked up front so that bad
/// input stops the job at once with a message naming the file: checkpoints (and their classes against the
/// dataset's <c>classes.json</c>), the manifest's split, and the shard set with the pool's labels. Owns the models.
/// In Core beside the evaluator, so the host only says what to load (<see cref="EvaluationInputOptions"/>).
/// </summary>
public sealed class EvaluationInputs : IDisposable
{
    private EvaluationInputs(IObjectStore dataset, IReadOnlyList<string> classes, IReadOnlyList<LabelRecord> rows, Checkpoint student)
    {
        Dataset = dataset;
        Classes = classes;
        Rows = rows;
        Student = student;
    }

    public IObjectStore Dataset { get; }

    public IReadOnlyList<string> Classes { get; }

    /// <summary>The manifest rows of the evaluated split, in manifest order.</summary>
    public IReadOnlyList<LabelRecord> Rows { get; }

    public Checkpoint Student { get; }

    public Checkpoint? Teacher { get; private set; }


    public PseudoLabelSet? PseudoLabels { get; private set; }

    /// <summary>The pool's true labels by dataset key; present with <see cref="PseudoLabels"/>.</summary>
    public IReadOnlyDictionary<string, int>? PoolLabels { get; private set; }

    /// <exception cref="FileNotFoundException">A checkpoint does not exist.</exception>
    /// <exception cref="InvalidDataException">Missing or unreadable dataset parts, a class mismatch, an empty split, or a bad shard set.</exception>
    public static async Task<EvaluationInputs> LoadAsync(ObjectStoreFactory stores, EvaluationInputOptions options, Device device, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(stores);
        ArgumentNullException.ThrowIfNull(options);
        var dataset = stores.Open(options.Dataset);
        var classes = await ReadClassesAsync(dataset, cancellationToken).ConfigureAwait(false);
        var manifest = await DatasetManifest.ReadAsync(
            await ReadDatasetFileAsync(dataset, options.Manifest, "the labels manifest (Trainer:Evaluate:Manifest)", cancellationToken).ConfigureAwait(false),
            $"{dataset.Location}{options.Manifest}",
            cancellationToken).ConfigureAwait(false);
        var rows = manifest.Where(r => string.IsNullOrEmpty(options.Split) || r.Split == options.Split).ToList();
        if (rows.Count == 0)
        {
            throw new InvalidDataException(
                $"Labels manifest '{dataset.Location}{options.Manifest}' has no rows in split '{options.Split}' (splits present: {string.Join(", ", manifest.Select(r => r.Split).Distinct())}).");
        }

        if (rows.FirstOrDefault(r => r.Label < 0 || r.Label >= classes.Count) is { } bad)
        {
            throw new InvalidDataException($"Labels manifest '{dataset.Location}{options.Manifest}' gives '{bad.Key}' label {bad.Label}, but classes.json has {classes.Count} classes.");
        }

        var student = await LoadCheckpointAsync(options.Checkpoint, "Trainer:Evaluate:Checkpoint", classes, dataset, device, cancellationToken).ConfigureAwait(false);
        var inputs = new EvaluationInputs(dataset, classes, rows, student);
        try
        {
            if (!string.IsNullOrWhiteSpace(options.Teacher))
            {
                inputs.Teacher = await LoadCheckpointAsync(options.Teacher, "Trainer:Evaluate:Teacher", classes, dataset, device, cancellationToken).ConfigureAwait(false);
            }

            if (!string.IsNullOrWhiteSpace(options.Shards))
            {
                await inputs.LoadShardsAsync(stores, options.Shards, cancellationToken).ConfigureAwait(false);
            }

            return inputs;
        }
        catch
        {
            inputs.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Student.Dispose();
        Teacher?.Dispose();
    }

    private async Task LoadShardsAsync(ObjectStoreFactory stores, string location, CancellationToken cancellationToken)
    {
        var pool = await DatasetManifest.ReadAsync(
            await ReadDatasetFileAsync(Dataset, DatasetLayout.PoolLabelsKey, "the pool's withheld labels, needed for --shards", cancellationToken).ConfigureAwait(false),
            $"{Dataset.Location}{DatasetLayout.PoolLabelsKey}",
            cancellationToken).ConfigureAwait(false);
        // The same reader as distillation: committed files only, latest commit per image, classes checked (exit 2,
        // naming the file); every row, rejected ones included, so both accuracies can be reported.
        var reader = new ShardSetReader(stores, new ShardSelectionOptions { Locations = [location], IncludeRejected = true });
        PseudoLabels = await reader.ReadAsync(Classes, preprocessing: null, cancellationToken).ConfigureAwait(false);

        var truth = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var row in pool)
        {
            truth[row.Key] = row.Label;
        }

        PoolLabels = truth;
    }

    private static async Task<Checkpoint> LoadCheckpointAsync(string path, string setting, IReadOnlyList<string> classes, IObjectStore dataset, Device device, CancellationToken cancellationToken)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException(
                $"Checkpoint '{path}' ({setting}) does not exist. Train one first (dotnet run --project src/Trainer) or point it at one, e.g. samples/fashion-mnist/teacher/teacher.json.",
                path);
        }

        // The record alone first: a class mismatch is reported without reading the weights.
        var record = CheckpointSerializer.ParseRecord(await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false));
        var names = record.Classes;
        if (names.Count == 0 ? record.Architecture.NumClasses != classes.Count : !names.SequenceEqual(classes, StringComparer.Ordinal))
        {
            var has = names.Count == 0 ? $"{record.Architecture.NumClasses} unnamed classes" : $"classes [{string.Join(", ", names)}]";
            throw new InvalidDataException(
                $"Checkpoint '{path}' ({setting}) has {has} but dataset '{dataset.Location}' has [{string.Join(", ", classes)}] in {DatasetLayout.ClassesKey}.");
        }

        return await CheckpointSerializer.LoadAsync(path, device, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<IReadOnlyList<string>> ReadClassesAsync(IObjectStore dataset, CancellationToken cancellationToken)
    {
        var bytes = await ReadDatasetFileAsync(dataset, DatasetLayout.ClassesKey, "the class names", cancellationToken).ConfigureAwait(false);
        try
        {
            return JsonSerializer.Deserialize<string[]>(bytes) is { Length: > 0 } names
                ? names
                : throw new InvalidDataException($"'{dataset.Location}{DatasetLayout.ClassesKey}' lists no classes.");
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"'{dataset.Location}{DatasetLayout.ClassesKey}' is not a JSON array of class names: {e.Message}", e);
        }
    }

    private static async Task<byte[]> ReadDatasetFileAsync(IObjectStore dataset, string key, string what, CancellationToken cancellationToken)
    {
        try
        {
            return await dataset.ReadAllBytesAsync(key, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectNotFoundException e)
        {
            throw new InvalidDataException(
                $"Dataset '{dataset.Location}' (Trainer:Data:Dataset) has no '{key}' ({what}). Import one with 'kddata-trainer import' or point --dataset at a dataset root.", e);
        }
    }
}
