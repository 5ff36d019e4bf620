using System.Formats.Tar;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text;
using System.Text.Json;

namespace KdData.PackedImages;

/// <summary>
/// Reads a WebDataset tar shard front to back from a plain stream (no seeking, one sample in memory at a time).
/// Members are grouped into samples by WebDataset's rule: the sample key is the member path up to the first '.' of
/// its file name, the rest is the extension. Every image member (<c>png</c>, <c>jpg</c>, <c>jpeg</c>, <c>webp</c>,
/// <c>bmp</c>, <c>gif</c>) is one image named by its member path; the sample's <c>cls</c> (a decimal class index) or
/// <c>json</c> (<c>{"label": n}</c>) is its label. A sample with no image member is an error member named by its key.
/// </summary>
public static class TarImageArchive
{
    private static readonly HashSet<string> ImageExtensions = new(StringComparer.OrdinalIgnoreCase) { "png", "jpg", "jpeg", "webp", "bmp", "gif" };

    /// <summary>The images of the archive on <paramref name="stream"/> (left open), in archive order.</summary>
    /// <param name="stream">The archive, read sequentially.</param>
    /// <param name="key">The object key, for messages.</param>
    /// <param name="options">The largest member read.</param>
    /// <param name="isDone">Member names not to return (their bytes are skipped, not copied); null for none.</param>
    /// <param name="cancellationToken">Stops reading.</param>
    /// <exception cref="PackedFileException">The stream is not a tar archive, or breaks off inside one.</exception>
    public static async IAsyncEnumerable<PackedMember> ReadAsync(
        Stream stream, string key, PackedReadOptions options, Func<string, bool>? isDone = null, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(options);
        var reader = new TarReader(stream, leaveOpen: true);
        await using (reader.ConfigureAwait(false))
        {
            var sample = new Sample();
            var entries = 0;
            PackedFileException? broken = null;
            while (true)
            {
                TarEntry? entry;
                byte[]? data = null;
                try
                {
                    entry = await reader.GetNextEntryAsync(copyData: false, cancellationToken).ConfigureAwait(false);
                    if (entry is not null && IsFile(entry) && Wanted(entry, options, isDone))
                    {
                        data = await ReadDataAsync(entry, cancellationToken).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException or ArgumentException)
                {
                    broken = entries == 0
                        ? new PackedFileException(key, "not-tar", $"is not a tar archive: {e.Message}", e)
                        : new PackedFileException(key, "broken-tar", $"breaks off after {entries} members: {e.Message}", e);
                    break;
                }

                if (entry is null)
                {
                    break;
                }

                entries++;
                if (!IsFile(entry))
                {
                    continue;
                }

                var (sampleKey, extension) = SplitName(entry.Name);
                if (sample.Key is not null && sample.Key != sampleKey)
                {
                    foreach (var member in sample.Drain(key, isDone))
                    {
                        yield return member;
                    }
                }

                sample.Add(sampleKey, entry, extension, data, options, isDone);
            }

            // The sample read before a break is whole as far as it goes: pass it on, then report the break.
            foreach (var member in sample.Drain(key, isDone))
            {
                yield return member;
            }

            if (broken is not null)
            {
                throw broken;
            }
        }
    }

    /// <summary>WebDataset's split: the key is the path up to the first '.' of the file name, the extension the rest.</summary>
    internal static (string Key, string Extension) SplitName(string name)
    {
        var slash = name.LastIndexOf('/');
        var dot = name.IndexOf('.', slash + 1);
        return dot < 0 ? (name, "") : (name[..dot], name[(dot + 1)..]);
    }

    private static bool IsFile(TarEntry entry) => entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile;

    private static bool Wanted(TarEntry entry, PackedReadOptions options, Func<string, bool>? isDone)
    {
        var extension = SplitName(entry.Name).Extension;
        if (IsLabel(extension))
        {
            return entry.Length <= 4096;
        }

        return ImageExtensions.Contains(extension) && entry.Length <= options.MaxMemberBytes && isDone?.Invoke(entry.Name) != true;
    }

    private static bool IsLabel(string extension) => extension.Equals("cls", StringComparison.OrdinalIgnoreCase) || extension.Equals("json", StringComparison.OrdinalIgnoreCase);

    private static async Task<byte[]> ReadDataAsync(TarEntry entry, CancellationToken cancellationToken)
    {
        var data = new byte[entry.Length];
        if (entry.DataStream is { } source && data.Length > 0)
        {
            await source.ReadExactlyAsync(data, cancellationToken).ConfigureAwait(false);
        }

        return data;
    }

    private static int? ParseLabel(string extension, byte[] data)
    {
        var text = Encoding.UTF8.GetString(data).Trim();
        if (extension.Equals("cls", StringComparison.OrdinalIgnoreCase))
        {
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var cls) ? cls : null;
        }

        try
        {
            using var json = JsonDocument.Parse(text);
            return json.RootElement.ValueKind == JsonValueKind.Object
                && (json.RootElement.TryGetProperty("label", out var value) || json.RootElement.TryGetProperty("cls", out value))
                && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var label) && label >= 0
                ? label
                : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>The members of one sample seen so far; at most one sample is held.</summary>
    private sealed class Sample
    {
        private readonly List<PackedMember> _images = [];
        private int? _label;
        private bool _anyImage;

        public string? Key { get; private set; }

        public void Add(string key, TarEntry entry, string extension, byte[]? data, PackedReadOptions options, Func<string, bool>? isDone)
        {
            Key = key;
            if (IsLabel(extension))
            {
                if (data is not null)
                {
                    _label ??= ParseLabel(extension, data);
                }

                return;
            }

            if (!ImageExtensions.Contains(extension))
            {
                return;
            }

            _anyImage = true;
            if (data is not null)
            {
                _images.Add(new PackedMember(entry.Name, data, null));
            }
            else if (entry.Length > options.MaxMemberBytes && isDone?.Invoke(entry.Name) != true)
            {
                _images.Add(new PackedMember(
                    entry.Name, null, null, "too-large",
                    string.Create(CultureInfo.InvariantCulture, $"member '{entry.Name}' has {entry.Length:N0} bytes, over the {options.MaxMemberBytes:N0} a member may have")));
            }
        }

        public List<PackedMember> Drain(string archive, Func<string, bool>? isDone)
        {
            var members = _images.Select(m => m with { Label = _label }).ToList();
            if (Key is not null && !_anyImage && isDone?.Invoke(Key) != true)
            {
                members.Add(new PackedMember(Key, null, _label, "no-image", $"sample '{Key}' of '{archive}' has no image member ({string.Join(", ", ImageExtensions.Order(StringComparer.Ordinal))})"));
            }

            _images.Clear();
            _label = null;
            _anyImage = false;
            Key = null;
            return members;
        }
    }
}
