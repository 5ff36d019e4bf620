using System.Threading.Channels;
using KdData.PackedImages;
using KdData.SoftTargets;
using KdData.Storage;
using Microsoft.Extensions.Logging;

namespace KdData.Labeling;

/// <summary>
/// The fetch stage for a packed file: streams its members (Parquet row groups through ranged reads pinned to the
/// listed ETag, tar members front to back) into the decode channel, one member at a time, so a file is never held
/// whole. Members already done (at this ETag), or in another partition under <see cref="PartitionUnit.Image"/>, are
/// skipped; a Parquet row group whose rows are all done is not even read. A file that is not its format is one error
/// row keyed by the object key (done at that ETag, like an undecodable image). When storage fails mid-file, the file
/// is opened again once storage answers and the members already passed on are skipped, so each goes on exactly once.
/// </summary>
internal sealed class PackedInput : IDisposable
{
    /// <summary>Read buffer in front of a tar download: 64 KiB, a few dozen small samples per read, two files at once by default.</summary>
    private const int TarReadBufferBytes = 64 * 1024;

    private readonly LabelingOptions _options;
    private readonly HashSet<(string Key, string ETag)> _done;
    private readonly PartitionLayout _layout;
    private readonly LabelingStatus _status;
    private readonly StorageOutage _outage;
    private readonly ILogger _logger;
    private readonly SemaphoreSlim _files;

    public PackedInput(LabelingOptions options, HashSet<(string Key, string ETag)> done, PartitionLayout layout, LabelingStatus status, StorageOutage outage, ILogger logger)
    {
        _options = options;
        _done = done;
        _layout = layout;
        _status = status;
        _outage = outage;
        _logger = logger;
        _files = new SemaphoreSlim(options.PackedConcurrency);
    }

    /// <summary>
    /// Passes the members of <paramref name="file"/> to <paramref name="output"/>. Returns false when
    /// <paramref name="stopIntake"/> stopped it part way (the rest is labeled by the next run).
    /// </summary>
    public async Task<bool> ReadAsync(IObjectStore input, ObjectInfo file, InputFormat format, ChannelWriter<FetchedImage> output, CancellationToken stopIntake, CancellationToken cancellationToken)
    {
        await _files.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            return await ReadFileAsync(input, file, format, output, stopIntake, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            _files.Release();
        }
    }

    public void Dispose() => _files.Dispose();

    private async Task<bool> ReadFileAsync(IObjectStore input, ObjectInfo file, InputFormat format, ChannelWriter<FetchedImage> output, CancellationToken stopIntake, CancellationToken cancellationToken)
    {
        var passed = new HashSet<string>(StringComparer.Ordinal);
        var retriesWhileAnswering = 0;
        var passedAtLastFailure = 0;
        using var intake = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopIntake);
        while (true)
        {
            try
            {
                await foreach (var member in ReadMembersAsync(input, file, format, passed, intake.Token).ConfigureAwait(false))
                {
                    passed.Add(member.Name);
                    var info = new ObjectInfo(PackedFormats.MemberKey(file.Key, member.Name), member.Bytes?.LongLength ?? 0, file.ETag, file.LastModified);
                    _status.AddListed();
                    var fetched = member.ErrorReason is { } reason
                        ? new FetchedImage(info, null, PreparedImage.FailureRow(info, "read", reason, member.ErrorDetail ?? reason), member.Label)
                        : new FetchedImage(info, member.Bytes, null, member.Label);
                    await output.WriteAsync(fetched, intake.Token).ConfigureAwait(false);
                }

                return true;
            }
            catch (OperationCanceledException) when (stopIntake.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                return false;
            }
            catch (PackedFileException e)
            {
                _logger.LogError("Cannot read {Key} as {Format}: {Detail}", file.Key, format, e.Detail);
                await WriteFileErrorAsync(output, file, e.Reason, e.Message, cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (ObjectNotFoundException)
            {
                await WriteFileErrorAsync(output, file, "missing", "listed but gone before it was read", cancellationToken).ConfigureAwait(false);
                return true;
            }
            catch (ObjectChangedException)
            {
                // Replaced since it was listed: the next run lists the new version and labels it whole.
                _logger.LogWarning("{Key} changed while it was read; its new version is labeled by the next run", file.Key);
                return true;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // A broken download (the SDK already resumed what it could) or a failed open: wait out an outage, then
                // open the file again and skip what was passed on. Failures with progress in between are not counted
                // against the file: a long file may meet several brief faults.
                if (passed.Count > passedAtLastFailure)
                {
                    retriesWhileAnswering = 0;
                    passedAtLastFailure = passed.Count;
                }

                if ((StorageOutage.IsUnreachable(e) || e is not StorageOperationException)
                    && (await _outage.WaitUntilReachableAsync(input, "fetch", cancellationToken).ConfigureAwait(false) || ++retriesWhileAnswering <= StorageOutage.RetriesWhileAnswering))
                {
                    _logger.LogWarning("Reading {Key} failed after {Members} members ({Message}); reading it again from there", file.Key, passed.Count, e.Message);
                    continue;
                }

                await WriteFileErrorAsync(output, file, LabelingRun.UnreadableReason, e.Message, cancellationToken).ConfigureAwait(false);
                return true;
            }
        }
    }

    private async IAsyncEnumerable<PackedMember> ReadMembersAsync(
        IObjectStore input, ObjectInfo file, InputFormat format, HashSet<string> passed, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        bool Skip(string name)
        {
            if (passed.Contains(name))
            {
                return true;
            }

            var key = PackedFormats.MemberKey(file.Key, name);
            if (_options.PartitionBy == PartitionUnit.Image && KeyPartitioner.PartitionOf(key, _layout.Count) != _layout.Partition)
            {
                return true;
            }

            if (_done.Contains((key, file.ETag)))
            {
                _status.AddListed();
                _status.AddAlreadyLabeled();
                return true;
            }

            return false;
        }

        if (format == InputFormat.Parquet)
        {
            var stream = await input.OpenRandomAccessAsync(file.Key, file.ETag, cancellationToken).ConfigureAwait(false);
            await using (stream.ConfigureAwait(false))
            {
                var table = await ParquetImageTable.OpenAsync(stream, file.Key, _options.Packed, cancellationToken).ConfigureAwait(false);
                await using (table.ConfigureAwait(false))
                {
                    await foreach (var member in table.ReadAsync(row => Skip(row.ToString(System.Globalization.CultureInfo.InvariantCulture)), cancellationToken).ConfigureAwait(false))
                    {
                        yield return member;
                    }
                }
            }
        }
        else
        {
            // TarReader reads each member as three small reads (its 512-byte header, the data, the padding to 512): on a
            // blob's download stream every one of them went through the SDK's and HttpClient's streams, which cost more CPU
            // than reading the archive itself (a 28x28 PNG sample is six such reads). The buffer turns them into copies
            // from memory and the downloads into few large reads. Disposing it disposes the download.
            var stream = new BufferedStream(await input.OpenReadAsync(file.Key, cancellationToken).ConfigureAwait(false), TarReadBufferBytes);
            await using (stream.ConfigureAwait(false))
            {
                await foreach (var member in TarImageArchive.ReadAsync(stream, file.Key, _options.Packed, Skip, cancellationToken).ConfigureAwait(false))
                {
                    yield return member;
                }
            }
        }
    }

    private static async Task WriteFileErrorAsync(ChannelWriter<FetchedImage> output, ObjectInfo file, string reason, string detail, CancellationToken cancellationToken)
    {
        var error = new ErrorRow(file.Key, file.ETag, file.Size, "read", reason, detail, null);
        await output.WriteAsync(new FetchedImage(file, null, error), cancellationToken).ConfigureAwait(false);
    }
}
