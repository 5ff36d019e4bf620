using Parquet;
using Parquet.Serialization;

namespace KdData.Datasets;

/// <summary>Reads and writes labels manifests: Parquet files of <see cref="LabelRecord"/> rows (Zstd).</summary>
public static class DatasetManifest
{
    /// <summary>Serialises <paramref name="rows"/> as Parquet into a byte array.</summary>
    public static async Task<byte[]> WriteAsync(IReadOnlyCollection<LabelRecord> rows, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(rows);
        using var buffer = new MemoryStream();
        var options = new ParquetOptions { CompressionMethod = CompressionMethod.Zstd };
        await ParquetSerializer.SerializeAsync(rows, buffer, options, cancellationToken: cancellationToken).ConfigureAwait(false);
        return buffer.ToArray();
    }

    /// <summary>Reads all rows of a manifest; <paramref name="name"/> is used in errors.</summary>
    public static async Task<IReadOnlyList<LabelRecord>> ReadAsync(Stream stream, string name, CancellationToken cancellationToken = default)
    {
        try
        {
            var rows = await ParquetSerializer.DeserializeAsync<LabelRecord>(stream, cancellationToken: cancellationToken).ConfigureAwait(false);
            return [.. rows.Data];
        }
        catch (Exception e) when (e is IOException or InvalidDataException or NotSupportedException or InvalidOperationException or ArgumentException)
        {
            throw new InvalidDataException($"Labels manifest '{name}' is not a readable Parquet file with columns key, label, split: {e.Message}", e);
        }
    }

    /// <summary>Reads a manifest from bytes.</summary>
    public static async Task<IReadOnlyList<LabelRecord>> ReadAsync(ReadOnlyMemory<byte> bytes, string name, CancellationToken cancellationToken = default)
    {
        using var stream = new MemoryStream(bytes.ToArray(), writable: false);
        return await ReadAsync(stream, name, cancellationToken).ConfigureAwait(false);
    }
}
