using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace KdData.Labeling;

/// <summary>
/// Which share of the keys this replica labels. Bound from the <c>Partition</c> section; when
/// <see cref="Index"/> is not set, <c>JOB_COMPLETION_INDEX</c> (set by Kubernetes Indexed Jobs) is used.
/// With <see cref="Claim"/>, replicas get no index: each claims partitions one at a time with the partition lease
/// until every partition is complete for <see cref="ClaimRun"/>.
/// </summary>
public sealed class PartitionOptions : IValidatableObject
{
    public const string SectionName = "Labeler:Partition";

    /// <summary>This replica's partition, 0-based. Default: <c>JOB_COMPLETION_INDEX</c>, else 0.</summary>
    public int? Index { get; set; }

    /// <summary>Number of partitions. Default 1.</summary>
    [Range(1, 100_000)]
    public int Count { get; set; } = 1;

    /// <summary>
    /// Lease-claimed partitions (for Azure Container Apps job replicas and plain <c>docker run</c> replicas, which get no
    /// completion index): the key space is split into <see cref="Count"/> partitions and each replica labels whichever
    /// partition it can lease, marks it complete, and claims the next, until all are complete. A crashed replica's
    /// partition is taken over, from its last commit, once its lease expires. Default false.
    /// </summary>
    public bool Claim { get; set; }

    /// <summary>
    /// Claim mode: the name shared by the replicas of one execution; a partition is complete once per run name (so the
    /// next execution labels new images again). Default: <c>CONTAINER_APP_JOB_EXECUTION_NAME</c>, which Azure Container
    /// Apps sets for every replica of a job execution. Letters, digits, '.', '_' and '-'.
    /// </summary>
    [RegularExpression("^[A-Za-z0-9._-]{1,100}$", ErrorMessage = "Labeler:Partition:ClaimRun must be 1-100 letters, digits, '.', '_' or '-'.")]
    public string? ClaimRun { get; set; }

    /// <summary>The claim run in effect (<see cref="ClaimRun"/>, else <c>CONTAINER_APP_JOB_EXECUTION_NAME</c>).</summary>
    public string? EffectiveClaimRun => ClaimRun ?? Environment.GetEnvironmentVariable("CONTAINER_APP_JOB_EXECUTION_NAME");

    /// <summary>The partition index in effect.</summary>
    public int EffectiveIndex => Index ?? FromEnvironment() ?? 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var raw = Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX");
        if (Index is null && raw is not null && FromEnvironment() is null)
        {
            yield return new ValidationResult($"JOB_COMPLETION_INDEX is '{raw}', not a whole number.", [nameof(Index)]);
        }

        if (Claim)
        {
            if (Index is not null)
            {
                yield return new ValidationResult("Labeler:Partition:Index is set but Labeler:Partition:Claim is true; claimed partitions take no index.", [nameof(Index)]);
            }

            if (string.IsNullOrEmpty(EffectiveClaimRun))
            {
                yield return new ValidationResult(
                    "Labeler:Partition:Claim is true but no Labeler:Partition:ClaimRun is set (nor CONTAINER_APP_JOB_EXECUTION_NAME): give every replica of one execution the same name.",
                    [nameof(ClaimRun)]);
            }

            yield break;
        }

        if (EffectiveIndex < 0 || EffectiveIndex >= Count)
        {
            yield return new ValidationResult($"Labeler:Partition:Index is {EffectiveIndex} but Labeler:Partition:Count is {Count}; the index must be in [0, Count).", [nameof(Index)]);
        }
    }

    private static int? FromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX"), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;
}
