using System.Globalization;
using KdData.Storage;

namespace KdData.Bench;

/// <summary>
/// What Azurite spends when nobody reads (<c>packed --stages true</c>). Azurite keeps its blob metadata in a LokiJS
/// database that it writes out whole, as one JSON file, every 5 s while anything changed (a lease renewal, a commit, a
/// new blob); with 60,000 loose blobs in it that file is ~50 MB, so each save costs CPU in proportion to the blobs
/// stored, not to the images a run reads. A packed run over 60,000 images lasts ~10 s, so one or two such saves land in
/// it. Measured: Azurite's CPU over a window with no requests, and over the same window after one 1-byte blob is
/// written (one save falls in it), median of <see cref="Repeats"/>.
/// </summary>
internal static class AzuriteAutosaveProfile
{
    private const int Repeats = 3;

    /// <summary>Longer than the 5 s autosave interval, so exactly one save follows a write inside it.</summary>
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(6);

    /// <summary>Returns the stages (seconds of Azurite CPU per window, not per image) and the size of its metadata file.</summary>
    public static async Task<IReadOnlyList<StageCpuResult>> MeasureAsync(IObjectStore scratch, int azuritePid, string dataDirectory, CancellationToken cancellationToken = default)
    {
        var idle = new List<double>();
        var dirty = new List<double>();
        for (var i = 0; i < Repeats; i++)
        {
            // Let a save still due from earlier work happen before the idle window.
            await Task.Delay(Window, cancellationToken);
            var before = ProcessTreeCpu.Seconds(azuritePid);
            await Task.Delay(Window, cancellationToken);
            idle.Add(ProcessTreeCpu.Seconds(azuritePid) - before);

            before = ProcessTreeCpu.Seconds(azuritePid);
            using (var one = new MemoryStream([0], writable: false))
            {
                await scratch.CreateAsync(string.Create(CultureInfo.InvariantCulture, $"autosave-probe-{Guid.NewGuid():N}"), one, cancellationToken);
            }

            await Task.Delay(Window, cancellationToken);
            dirty.Add(ProcessTreeCpu.Seconds(azuritePid) - before);
        }

        var database = Path.Combine(dataDirectory, "__azurite_db_blob__.json");
        var megabytes = File.Exists(database) ? new FileInfo(database).Length / 1e6 : 0;
        return
        [
            new(string.Create(CultureInfo.InvariantCulture, $"Azurite: {Window.TotalSeconds:F0} s without requests (s of CPU, not ms/img)"), Median(idle)),
            new(string.Create(CultureInfo.InvariantCulture, $"Azurite: {Window.TotalSeconds:F0} s after one 1-byte write = one autosave of its {megabytes:F0} MB metadata JSON (s of CPU)"), Median(dirty)),
        ];
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
