using System.Security.Cryptography;
using System.Text.Json;
using KdData.Records;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Models;

/// <summary>
/// Saves and loads checkpoints: weights (<see cref="WeightsFormat"/>) plus a <see cref="CheckpointRecord"/> JSON.
/// Loading parses the record, verifies the SHA-256 of the weights, rebuilds the architecture with
/// <see cref="ModelZoo.Create"/> and loads the weights into it. The byte and stream methods are the core (the
/// rest of the system stores checkpoints in an object store); the file methods write
/// <c>&lt;name&gt;.json</c> beside <c>&lt;name&gt;.safetensors</c> (or <c>.dat</c>).
/// </summary>
public static class CheckpointSerializer
{
    /// <summary>File extension of the record.</summary>
    public const string RecordExtension = ".json";

    /// <summary>Serializes the weights of <paramref name="model"/> in <c>record.WeightsFormat</c> and the record (with its SHA-256 set).</summary>
    public static EncodedCheckpoint Encode(nn.Module model, CheckpointRecord record)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(record);
        ValidateRecord(record);
        var weights = ModelWeights.Export(model, record.WeightsFormat);
        var written = Stamp(record) with { WeightsSha256 = Sha256Hex(weights) };
        return new EncodedCheckpoint(weights, SerializeRecord(written), written);
    }

    /// <summary>
    /// Rebuilds a model from a record and weights: verifies the SHA-256, creates the architecture, loads the
    /// weights (all parameters trainable) and moves the model to <paramref name="device"/> if given.
    /// </summary>
    /// <exception cref="InvalidDataException">Bad record, SHA-256 mismatch, or weights not matching the architecture.</exception>
    public static Checkpoint Decode(ReadOnlyMemory<byte> weights, ReadOnlyMemory<byte> recordJson, Device? device = null)
    {
        var record = ParseRecord(recordJson);
        var actual = Sha256Hex(weights.Span);
        if (!string.Equals(actual, record.WeightsSha256, StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException(
                $"Checkpoint weights SHA-256 mismatch: the record expects '{record.WeightsSha256}' but the weights hash to '{actual}'. The weights file is corrupt or belongs to another record.");
        }

        nn.Module<Tensor, Tensor> model;
        try
        {
            model = ModelZoo.Create(record.Architecture);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidDataException($"Checkpoint record 'architecture' is invalid: {ex.Message}", ex);
        }
        try
        {
            ModelWeights.Import(model, weights, record.WeightsFormat);
            if (device is not null && device.type != DeviceType.CPU)
            {
                model.to(device);
            }
        }
        catch
        {
            model.Dispose();
            throw;
        }
        return new Checkpoint(model, record);
    }

    /// <summary>Writes the weights and the record to two streams (both left open); returns the record as written.</summary>
    public static async Task<CheckpointRecord> WriteAsync(nn.Module model, CheckpointRecord record, Stream weights, Stream recordJson, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(recordJson);
        var encoded = Encode(model, record);
        await weights.WriteAsync(encoded.Weights, cancellationToken).ConfigureAwait(false);
        await recordJson.WriteAsync(encoded.RecordJson, cancellationToken).ConfigureAwait(false);
        return encoded.Record;
    }

    /// <summary>Reads the weights and the record from two streams (to their end, left open) and decodes them as <see cref="Decode"/>.</summary>
    public static async Task<Checkpoint> ReadAsync(Stream weights, Stream recordJson, Device? device = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(recordJson);
        var weightBytes = await ReadToEndAsync(weights, cancellationToken).ConfigureAwait(false);
        var recordBytes = await ReadToEndAsync(recordJson, cancellationToken).ConfigureAwait(false);
        return Decode(weightBytes, recordBytes, device);
    }

    /// <summary>
    /// Writes <c>&lt;directory&gt;/&lt;name&gt;.json</c> and the weights file beside it (created or overwritten);
    /// returns the record's path.
    /// </summary>
    public static async Task<string> SaveAsync(nn.Module model, CheckpointRecord record, string directory, string name, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(name);
        if (name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"Checkpoint name '{name}' is not a valid file name.", nameof(name));
        }
        var encoded = Encode(model, record);
        Directory.CreateDirectory(directory);
        var recordPath = Path.Combine(directory, name + RecordExtension);
        var weightsPath = WeightsPathFor(recordPath, encoded.Record.WeightsFormat);
        // Weights first: a record on disk always refers to weights that are already complete.
        await File.WriteAllBytesAsync(weightsPath, encoded.Weights, cancellationToken).ConfigureAwait(false);
        await File.WriteAllBytesAsync(recordPath, encoded.RecordJson, cancellationToken).ConfigureAwait(false);
        return recordPath;
    }

    /// <summary>Loads the checkpoint whose record is at <paramref name="recordPath"/>; the weights file is found beside it.</summary>
    /// <exception cref="FileNotFoundException">The record or the weights file does not exist.</exception>
    /// <exception cref="InvalidDataException">As <see cref="Decode"/>.</exception>
    public static async Task<Checkpoint> LoadAsync(string recordPath, Device? device = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(recordPath);
        if (!File.Exists(recordPath))
        {
            throw new FileNotFoundException($"Checkpoint record '{recordPath}' does not exist.", recordPath);
        }
        var recordBytes = await File.ReadAllBytesAsync(recordPath, cancellationToken).ConfigureAwait(false);
        var record = ParseRecord(recordBytes);
        var weightsPath = WeightsPathFor(recordPath, record.WeightsFormat);
        if (!File.Exists(weightsPath))
        {
            throw new FileNotFoundException($"Checkpoint weights '{weightsPath}' (named by record '{recordPath}') do not exist.", weightsPath);
        }
        var weightBytes = await File.ReadAllBytesAsync(weightsPath, cancellationToken).ConfigureAwait(false);
        return Decode(weightBytes, recordBytes, device);
    }

    /// <summary>The weights file that belongs beside the record at <paramref name="recordPath"/>.</summary>
    public static string WeightsPathFor(string recordPath, WeightsFormat format)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(recordPath);
        return Path.ChangeExtension(recordPath, ModelWeights.FileExtension(format));
    }

    /// <summary>Serializes a record to UTF-8 JSON (snake_case names), stamped with the current versions.</summary>
    public static byte[] SerializeRecord(CheckpointRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return JsonSerializer.SerializeToUtf8Bytes(Stamp(record), RecordJsonContext.Default.CheckpointRecord);
    }

    /// <summary>Parses and validates a record, e.g. to read classes or preprocessing without loading weights.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON or inconsistent fields.</exception>
    public static CheckpointRecord ParseRecord(ReadOnlyMemory<byte> recordJson)
    {
        CheckpointRecord? record;
        try
        {
            record = JsonSerializer.Deserialize(recordJson.Span, RecordJsonContext.Default.CheckpointRecord);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"Checkpoint record is not valid JSON of the expected shape: {ex.Message}", ex);
        }
        if (record is null)
        {
            throw new InvalidDataException("Checkpoint record is JSON null.");
        }
        RecordFormat.Check(record.FormatVersion, CheckpointRecord.CurrentFormatVersion, "Checkpoint record");
        RecordJson.CheckLineage(record.Training.Lineage, "Checkpoint record 'training.lineage'");
        if (string.IsNullOrWhiteSpace(record.WeightsSha256))
        {
            throw new InvalidDataException("Checkpoint record has no 'weights_sha256'; it cannot be verified.");
        }
        ValidateRecord(record);
        return record;
    }

    /// <summary><paramref name="record"/> as this build writes it: the current record and lineage versions.</summary>
    private static CheckpointRecord Stamp(CheckpointRecord record) => record with
    {
        FormatVersion = CheckpointRecord.CurrentFormatVersion,
        Training = record.Training.Lineage is null ? record.Training : record.Training with { Lineage = RecordJson.Stamp(record.Training.Lineage) },
    };

    private static void ValidateRecord(CheckpointRecord record)
    {
        if (record.Architecture is null)
        {
            throw new InvalidDataException("Checkpoint record has no 'architecture'.");
        }
        if (record.Classes.Count != 0 && record.Classes.Count != record.Architecture.NumClasses)
        {
            throw new InvalidDataException(
                $"Checkpoint record 'classes' has {record.Classes.Count} names but 'architecture.num_classes' is {record.Architecture.NumClasses}.");
        }
        if (record.Preprocessing is { } p && (p.Mean.Count != 0 || p.Std.Count != 0)
            && (p.Mean.Count != p.Channels || p.Std.Count != p.Channels))
        {
            throw new InvalidDataException(
                $"Checkpoint record 'preprocessing' has {p.Mean.Count} mean and {p.Std.Count} std values for {p.Channels} channels.");
        }
    }

    private static string Sha256Hex(ReadOnlySpan<byte> data) => Convert.ToHexStringLower(SHA256.HashData(data));

    private static async Task<byte[]> ReadToEndAsync(Stream stream, CancellationToken cancellationToken)
    {
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }
}
