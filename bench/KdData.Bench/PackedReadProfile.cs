using System.Diagnostics;
using KdData.PackedImages;
using KdData.Storage;

namespace KdData.Bench;

/// <summary>
/// Where a packed run's read CPU goes (<c>packed --stages true</c>): the files of one input kind read one at a time,
/// nothing else running, best of <see cref="Rounds"/> rounds, in CPU ms per image: the bytes alone (each file streamed
/// from Azurite into nothing), the Labeler's reader over Azurite as <c>PackedInput</c> opens it (ranged reads for Parquet,
/// one download behind a 64 KiB buffer for tar, and for comparison the bare download it read before) with our process's
/// and Azurite's CPU apart, and the same reader over the file's bytes in memory.
/// The rest of a run (decode, preprocess, teacher, shards and the stages' channels) is what the end-to-end figure adds.
/// </summary>
internal static class PackedReadProfile
{
    private const int Rounds = 3;

    /// <summary>The read buffer <c>PackedInput</c> puts in front of a tar download (its <c>TarReadBufferBytes</c>).</summary>
    private const int TarReadBufferBytes = 64 * 1024;

    public static async Task<IReadOnlyList<StageCpuResult>> MeasureAsync(
        IObjectStore input, string kind, int azuritePid, CancellationToken cancellationToken = default)
    {
        var files = new List<ObjectInfo>();
        await foreach (var item in input.ListAllAsync(string.Empty, cancellationToken: cancellationToken))
        {
            files.Add(item);
        }

        var options = new PackedReadOptions();
        var inMemory = new List<(ObjectInfo File, byte[] Bytes)>();
        foreach (var file in files)
        {
            inMemory.Add((file, await input.ReadAllBytesAsync(file.Key, cancellationToken)));
        }

        using var self = Process.GetCurrentProcess();
        var best = new Dictionary<string, double>(StringComparer.Ordinal);
        for (var round = 0; round < Rounds; round++)
        {
            var members = 0L;
            foreach (var (file, bytes) in inMemory)
            {
                using var stream = new MemoryStream(bytes, writable: false);
                members += await CountAsync(kind, stream, file.Key, options, cancellationToken);
            }

            var images = members;
            async Task Measure(string stage, Func<Task> work)
            {
                GC.Collect();
                GC.WaitForPendingFinalizers();
                self.Refresh();
                var ours = self.TotalProcessorTime;
                var azurite = ProcessTreeCpu.Seconds(azuritePid);
                await work();
                self.Refresh();
                var oursMs = (self.TotalProcessorTime - ours).TotalMilliseconds / images;
                var azuriteMs = (ProcessTreeCpu.Seconds(azuritePid) - azurite) * 1000 / images;
                Keep(best, $"{kind}: {stage} (ours)", oursMs);
                if (stage.Contains("Azurite", StringComparison.Ordinal))
                {
                    Keep(best, $"{kind}: {stage} (Azurite)", azuriteMs);
                }
            }

            await Measure("file bytes from Azurite, streamed into nothing", async () =>
            {
                foreach (var file in files)
                {
                    var stream = await input.OpenReadAsync(file.Key, cancellationToken);
                    await using (stream)
                    {
                        await stream.CopyToAsync(Stream.Null, cancellationToken);
                    }
                }
            });
            if (kind == PackedBenchKinds.Parquet)
            {
                await Measure("reader over Azurite, ranged reads (as PackedInput)", async () =>
                {
                    foreach (var file in files)
                    {
                        var stream = await input.OpenRandomAccessAsync(file.Key, file.ETag, cancellationToken);
                        await using (stream)
                        {
                            await CountAsync(kind, stream, file.Key, options, cancellationToken);
                        }
                    }
                });
            }
            else
            {
                // PackedInput reads a tar download through a 64 KiB BufferedStream; the bare download is how it read before.
                foreach (var (stage, buffer) in new[] { ("reader over the bare Azurite download", 0), ("reader over the Azurite download + 64 KiB buffer (as PackedInput)", TarReadBufferBytes) })
                {
                    await Measure(stage, async () =>
                    {
                        foreach (var file in files)
                        {
                            var download = await input.OpenReadAsync(file.Key, cancellationToken);
                            var stream = buffer > 0 ? new BufferedStream(download, buffer) : download;
                            await using (stream)
                            {
                                await CountAsync(kind, stream, file.Key, options, cancellationToken);
                            }
                        }
                    });
                }
            }
            await Measure("reader over the bytes in memory", async () =>
            {
                foreach (var (file, bytes) in inMemory)
                {
                    using var stream = new MemoryStream(bytes, writable: false);
                    await CountAsync(kind, stream, file.Key, options, cancellationToken);
                }
            });
        }

        return [.. best.Select(b => new StageCpuResult(b.Key, b.Value))];
    }

    private static async Task<long> CountAsync(string kind, Stream stream, string key, PackedReadOptions options, CancellationToken cancellationToken)
    {
        var members = 0L;
        if (kind == PackedBenchKinds.Parquet)
        {
            var table = await ParquetImageTable.OpenAsync(stream, key, options, cancellationToken);
            await using (table)
            {
                await foreach (var member in table.ReadAsync(cancellationToken: cancellationToken))
                {
                    members++;
                }
            }
        }
        else
        {
            await foreach (var member in TarImageArchive.ReadAsync(stream, key, options, cancellationToken: cancellationToken))
            {
                members++;
            }
        }

        return members;
    }

    private static void Keep(Dictionary<string, double> best, string stage, double ms) =>
        best[stage] = Math.Min(best.GetValueOrDefault(stage, double.MaxValue), ms);
}
