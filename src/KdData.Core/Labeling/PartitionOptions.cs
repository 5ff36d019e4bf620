using System.ComponentModel.DataAnnotations;
using System.Globalization;

namespace KdData.Labeling;

/// <summary>
/// Which share of the keys this replica labels. Bound from the <c>Partition</c> section; when
/// <see cref="Index"/> is not set, <c>JOB_COMPLETION_INDEX</c> (set by Kubernetes Indexed Jobs) is used.
/// </summary>
public sealed class PartitionOptions : IValidatableObject
{
    public const string SectionName = "Partition";

    /// <summary>This replica's partition, 0-based. Default: <c>JOB_COMPLETION_INDEX</c>, else 0.</summary>
    public int? Index { get; set; }

    /// <summary>Number of partitions. Default 1.</summary>
    [Range(1, 100_000)]
    public int Count { get; set; } = 1;

    /// <summary>The partition index in effect.</summary>
    public int EffectiveIndex => Index ?? FromEnvironment() ?? 0;

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        var raw = Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX");
        if (Index is null && raw is not null && FromEnvironment() is null)
        {
            yield return new ValidationResult($"JOB_COMPLETION_INDEX is '{raw}', not a whole number.", [nameof(Index)]);
        }

        if (EffectiveIndex < 0 || EffectiveIndex >= Count)
        {
            yield return new ValidationResult($"Partition:Index is {EffectiveIndex} but Partition:Count is {Count}; the index must be in [0, Count).", [nameof(Index)]);
        }
    }

    private static int? FromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("JOB_COMPLETION_INDEX"), NumberStyles.None, CultureInfo.InvariantCulture, out var index) ? index : null;
}
