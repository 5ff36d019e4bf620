using KdData.PackedImages;
using KdData.Hosting;

namespace KdData.Training;

/// <summary>
/// The members of one packed shard (Parquet image table or WebDataset tar) laid out for random access: their encoded
/// bytes back to back in one data file on local disk (or, with no cache folder, one array in memory) and an index of
/// names, offsets and lengths. Reading a member is one positional read, like reading a loose image file, so a training
/// epoch can draw images in any order without parsing the shard again.
/// </summary>
internal sealed class UnpackedShard
{
    private readonly Dictionary<string, int> _byName;
    private readonly long[] _offsets;
    private readonly int[] _lengths;
    private readonly string? _dataPath;
    private readonly byte[]? _data;

    /// <param name="location">The store's location and the shard's key, for messages.</param>
    /// <param name="format">How the shard was read (names rows or members in messages).</param>
    /// <param name="index">Members and lengths.</param>
    /// <param name="dataPath">The data file, or null when <paramref name="data"/> holds the bytes.</param>
    /// <param name="data">The bytes in memory, or null when they are in <paramref name="dataPath"/>.</param>
    /// <param name="fromCache">Whether an earlier run had unpacked it already.</param>
    public UnpackedShard(string location, InputFormat format, UnpackedShardIndex index, string? dataPath, byte[]? data, bool fromCache)
    {
        Location = location;
        Format = format;
        Names = index.Names;
        FromCache = fromCache;
        _dataPath = dataPath;
        _data = data;
        _lengths = [.. index.Lengths];
        _offsets = new long[_lengths.Length];
        _byName = new Dictionary<string, int>(index.Names.Count, StringComparer.Ordinal);
        long offset = 0;
        for (var i = 0; i < _lengths.Length; i++)
        {
            _offsets[i] = offset;
            offset += Math.Max(_lengths[i], 0);
            _byName[index.Names[i]] = i;
        }
    }

    /// <summary>The shard's full location (store location + key), for messages.</summary>
    public string Location { get; }

    /// <summary>How the shard was read.</summary>
    public InputFormat Format { get; }

    /// <summary>Member names in shard order.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>Whether the data came from an earlier run's unpacking.</summary>
    public bool FromCache { get; }

    /// <summary>Whether the shard has a member of this name.</summary>
    public bool Contains(string member) => _byName.ContainsKey(member);

    /// <summary>
    /// What is wrong with <paramref name="key"/>, which names <paramref name="member"/> of this shard: null when the shard
    /// has it, else a sentence naming the key, the shard and what it holds.
    /// </summary>
    public string? Problem(string key, string member) => Contains(member)
        ? null
        : Format == InputFormat.Parquet
            ? $"'{key}' names row {member} of '{Location}', which has {Names.Count:N0} rows (0 to {Names.Count - 1:N0})"
            : $"'{key}' names member '{member}' of '{Location}', which has no such member ({Names.Count:N0} images)";

    /// <summary>
    /// The encoded bytes of <paramref name="member"/>; empty for a member that is no image (the decoder then reports it
    /// as empty and the image is skipped, as an unreadable loose image is).
    /// </summary>
    /// <param name="key">The image key, for the error.</param>
    /// <param name="member">The row index or member name.</param>
    /// <param name="cancellationToken">Stops the read.</param>
    /// <exception cref="InvalidInputException">The shard has no such member: the key and the dataset disagree.</exception>
    public async Task<byte[]> ReadAsync(string key, string member, CancellationToken cancellationToken)
    {
        if (!_byName.TryGetValue(member, out var i))
        {
            throw new InvalidInputException($"Image key {Problem(key, member)}.");
        }

        if (_lengths[i] <= 0)
        {
            return [];
        }

        var bytes = new byte[_lengths[i]];
        if (_data is not null)
        {
            Array.Copy(_data, _offsets[i], bytes, 0, bytes.Length);
            return bytes;
        }

        using var handle = File.OpenHandle(_dataPath!, FileMode.Open, FileAccess.Read, FileShare.Read | FileShare.Delete, FileOptions.Asynchronous);
        var read = 0;
        while (read < bytes.Length)
        {
            var n = await RandomAccess.ReadAsync(handle, bytes.AsMemory(read), _offsets[i] + read, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                throw new IOException($"The unpacked data of '{Location}' ({_dataPath}) is shorter than its index says; delete it to unpack the shard again.");
            }

            read += n;
        }

        return bytes;
    }
}
