using System.ComponentModel.DataAnnotations;

namespace KdData.SoftTargets;

/// <summary>Layout of soft-target and error shards (bound from the <c>Shards</c> configuration section).</summary>
public sealed class ShardOptions
{
    public const string SectionName = "Shards";

    /// <summary>Rows per Parquet row group. The writer holds at most this many rows in memory. Default 10,000.</summary>
    [Range(1, 1_000_000)]
    public int RowGroupSize { get; set; } = 10_000;

    /// <summary>Most rows one shard file may hold; the writer refuses more. Default 50,000.</summary>
    [Range(1, int.MaxValue)]
    public int MaxRowsPerShard { get; set; } = 50_000;

    /// <summary>How many of the largest logits the labeler keeps per view (capped at the number of classes, so
    /// small problems store every class and rebuild exactly). Default 100.</summary>
    [Range(1, 100_000)]
    public int TopK { get; set; } = 100;
}
