using System.Globalization;
using System.Text;
using KdData.Imaging;
using KdData.Models;
using KdData.Storage;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace KdData.Labeling;

/// <summary>
/// Lease-claimed partitions (<see cref="PartitionOptions.Claim"/>): the replica goes round the <see cref="PartitionOptions.Count"/>
/// partitions from a random starting point, runs a <see cref="LabelingRun"/> on each one whose lease it can take at once
/// (the run keeps the lease renewed and releases it at the end), and when the run completes records the partition as
/// complete for this claim run with a marker under <c>_claims/&lt;run&gt;/</c>. Partitions held by others are revisited
/// every few seconds (<see cref="RevisitInterval"/>, on the <see cref="TimeProvider"/> it is given, which its runs use too),
/// so a crashed replica's partition is taken over, from its last commit, when its lease expires.
/// It returns when every partition is complete. Any number of identical replicas can share the work; exactly once
/// holds as for indexed partitions (the lease, create-only shards and the manifest's ETag see to it).
/// </summary>
public sealed class ClaimedPartitions
{
    /// <summary>How long to wait before trying again when every partition left is leased by others.</summary>
    internal static readonly TimeSpan RevisitInterval = TimeSpan.FromSeconds(5);

    private readonly ObjectStoreFactory _stores;
    private readonly InferenceModel _teacher;
    private readonly LabelingOptions _options;
    private readonly PartitionOptions _partition;
    private readonly ImageOptions _imageLimits;
    private readonly ILogger _logger;
    private readonly string _claimRun;
    private readonly TimeProvider _time;

    /// <param name="stores">Opens input and output.</param>
    /// <param name="teacher">The loaded teacher.</param>
    /// <param name="options">Labeler settings.</param>
    /// <param name="partition">Claim mode settings: <see cref="PartitionOptions.Count"/> and <see cref="PartitionOptions.EffectiveClaimRun"/>.</param>
    /// <param name="imageLimits">Decoding limits and resize mode.</param>
    /// <param name="logger">Progress and warnings.</param>
    /// <param name="timeProvider">The clock of the revisits and of each partition's run (see <see cref="LabelingRun"/>); <see cref="TimeProvider.System"/> when null.</param>
    public ClaimedPartitions(ObjectStoreFactory stores, InferenceModel teacher, LabelingOptions options, PartitionOptions partition, ImageOptions imageLimits, ILogger? logger = null, TimeProvider? timeProvider = null)
    {
        ArgumentNullException.ThrowIfNull(partition);
        _stores = stores;
        _teacher = teacher;
        _options = options;
        _partition = partition;
        _imageLimits = imageLimits;
        _logger = logger ?? NullLogger.Instance;
        _time = timeProvider ?? TimeProvider.System;
        _claimRun = partition.EffectiveClaimRun ?? throw new ArgumentException("Claim mode needs Labeler:Partition:ClaimRun (or CONTAINER_APP_JOB_EXECUTION_NAME).", nameof(partition));
        // Validates the per-class settings against the teacher now, before anything is claimed.
        _ = NewRun(0);
    }

    /// <summary>Called with each partition run before it starts (for progress reporting).</summary>
    public Action<LabelingRun>? RunStarting { get; set; }

    /// <summary>
    /// Labels partitions until all are complete for this claim run; returns the summaries of the partitions this replica
    /// labeled. Stops early (with that run's summary last) when a run is interrupted or exceeds the error threshold.
    /// </summary>
    public async Task<IReadOnlyList<LabelingSummary>> RunAsync(CancellationToken stopIntake = default, CancellationToken abort = default)
    {
        var output = _stores.Open(_options.Output);
        var count = _partition.Count;
        var start = Random.Shared.Next(count);
        var summaries = new List<LabelingSummary>();
        while (true)
        {
            var complete = await CompleteAsync(output, abort).ConfigureAwait(false);
            if (complete.Count == count)
            {
                _logger.LogInformation("All {Count} partitions are complete for claim run {Run}; this replica labeled {Mine}", count, _claimRun, summaries.Count);
                return summaries;
            }

            var labeled = false;
            for (var k = 0; k < count; k++)
            {
                var index = (start + k) % count;
                if (complete.Contains(index))
                {
                    continue;
                }

                if (stopIntake.IsCancellationRequested)
                {
                    return summaries;
                }

                var run = NewRun(index);
                LabelingSummary summary;
                try
                {
                    RunStarting?.Invoke(run);
                    summary = await run.RunAsync(stopIntake, abort).ConfigureAwait(false);
                }
                catch (PartitionBusyException)
                {
                    continue; // another replica has it (or a crashed one, until its lease expires)
                }

                summaries.Add(summary);
                if (summary.Outcome != LabelingOutcome.Completed)
                {
                    return summaries;
                }

                await MarkCompleteAsync(output, run.TeacherFolder, index, summary, abort).ConfigureAwait(false);
                complete.Add(index);
                labeled = true;
            }

            if (!labeled && complete.Count < count)
            {
                // Everything left is leased by others: wait for them to finish, or for a crashed holder's lease to expire.
                await Task.Delay(RevisitInterval, _time, stopIntake).ConfigureAwait(false);
            }
        }
    }

    private LabelingRun NewRun(int index) =>
        new(_stores, _teacher, _options, new PartitionOptions { Index = index, Count = _partition.Count }, _imageLimits, _logger, _time) { LeaseWait = TimeSpan.Zero };

    private string ClaimsPrefix(string teacherFolder) => $"{teacherFolder}_claims/{_claimRun}/";

    private async Task<HashSet<int>> CompleteAsync(IObjectStore output, CancellationToken cancellationToken)
    {
        var complete = new HashSet<int>();
        var prefix = ClaimsPrefix($"teacher={_teacher.Id}/");
        try
        {
            await foreach (var item in output.ListAllAsync(prefix, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                var layout = item.Key[prefix.Length..];
                // partition-IIIIofNNNN
                if (layout.StartsWith("partition-", StringComparison.Ordinal)
                    && int.TryParse(layout.AsSpan(10, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var index)
                    && layout.EndsWith(string.Create(CultureInfo.InvariantCulture, $"of{_partition.Count:D4}"), StringComparison.Ordinal))
                {
                    complete.Add(index);
                }
            }
        }
        catch (StoreNotFoundException)
        {
            // Nothing written yet.
        }

        return complete;
    }

    private async Task MarkCompleteAsync(IObjectStore output, string teacherFolder, int index, LabelingSummary summary, CancellationToken cancellationToken)
    {
        var layout = new PartitionLayout(teacherFolder, index, _partition.Count);
        var key = $"{ClaimsPrefix(teacherFolder)}partition-{layout.Tag}";
        var json = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{{\"partition\":{index},\"count\":{_partition.Count},\"completed_at\":\"{_time.GetUtcNow():O}\",\"images\":{summary.Images}}}"));
        try
        {
            await output.CreateAsync(key, json, cancellationToken).ConfigureAwait(false);
        }
        catch (ObjectAlreadyExistsException)
        {
            // Completed by another replica too (it took the lease between our release and this mark): nothing left to do.
        }

        _logger.LogInformation("Partition {Partition} complete for claim run {Run}", layout.Tag, _claimRun);
    }
}
