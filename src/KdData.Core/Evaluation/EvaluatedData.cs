namespace KdData.Evaluation;

/// <summary>Which images were evaluated, as recorded in <c>evaluation.json</c>.</summary>
public sealed record EvaluatedData
{
    /// <summary>Dataset root location.</summary>
    public required string Dataset { get; init; }

    /// <summary>Labels manifest key within the dataset (e.g. <c>manifest.parquet</c>).</summary>
    public required string Manifest { get; init; }

    /// <summary>Split evaluated; empty means every row of the manifest.</summary>
    public required string Split { get; init; }

    /// <summary>Rows of the manifest in the split.</summary>
    public required int Listed { get; init; }

    /// <summary>Images that could not be read or decoded and were left out.</summary>
    public required long Skipped { get; init; }
}
