using System.Buffers.Binary;
using System.IO.Compression;

namespace KdData.Datasets;

/// <summary>
/// Reads IDX files (the format of MNIST and Fashion-MNIST), plain or gzip-compressed.
/// Only the unsigned-byte element type (0x08) is supported: it is what those datasets use.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByteType = 0x08;
    private const int MaxDimensions = 8;

    /// <summary>Reads an IDX file; <c>.gz</c> files are decompressed on the fly.</summary>
    public static async Task<IdxArray> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"IDX file '{path}' does not exist.", path);
        }

        var file = File.OpenRead(path);
        await using (file.ConfigureAwait(false))
        {
            Stream stream = path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase) ? new GZipStream(file, CompressionMode.Decompress) : file;
            await using (stream.ConfigureAwait(false))
            {
                return await ReadAsync(stream, path, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    /// <summary>Reads an IDX array from <paramref name="stream"/>; <paramref name="name"/> is used in errors.</summary>
    public static async Task<IdxArray> ReadAsync(Stream stream, string name, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var header = new byte[4];
        await ReadExactlyAsync(stream, header, name, "header", cancellationToken).ConfigureAwait(false);
        if (header[0] != 0 || header[1] != 0)
        {
            throw new IdxFormatException($"IDX file '{name}' does not start with the IDX magic (two zero bytes).");
        }

        if (header[2] != UnsignedByteType)
        {
            throw new IdxFormatException($"IDX file '{name}' has element type 0x{header[2]:x2}; only unsigned bytes (0x08) are supported.");
        }

        int rank = header[3];
        if (rank is < 1 or > MaxDimensions)
        {
            throw new IdxFormatException($"IDX file '{name}' declares {rank} dimensions; expected 1 to {MaxDimensions}.");
        }

        var dimensionBytes = new byte[rank * 4];
        await ReadExactlyAsync(stream, dimensionBytes, name, "dimensions", cancellationToken).ConfigureAwait(false);
        var dimensions = new int[rank];
        long total = 1;
        for (var i = 0; i < rank; i++)
        {
            dimensions[i] = BinaryPrimitives.ReadInt32BigEndian(dimensionBytes.AsSpan(i * 4));
            if (dimensions[i] < 0)
            {
                throw new IdxFormatException($"IDX file '{name}' has a negative size in dimension {i}.");
            }

            total *= dimensions[i];
            if (total > Array.MaxLength)
            {
                throw new IdxFormatException($"IDX file '{name}' declares more than {Array.MaxLength} elements.");
            }
        }

        var data = new byte[total];
        await ReadExactlyAsync(stream, data, name, "data", cancellationToken).ConfigureAwait(false);
        return new IdxArray(dimensions, data);
    }

    private static async Task ReadExactlyAsync(Stream stream, byte[] buffer, string name, string part, CancellationToken cancellationToken)
    {
        try
        {
            await stream.ReadExactlyAsync(buffer, cancellationToken).ConfigureAwait(false);
        }
        catch (EndOfStreamException e)
        {
            throw new IdxFormatException($"IDX file '{name}' is truncated: it ends inside its {part}.", e);
        }
    }
}
