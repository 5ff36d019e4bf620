namespace KdData.Trainer;

/// <summary>One point of a sweep grid.</summary>
/// <param name="Index">0-based position (the last axis varies fastest).</param>
/// <param name="Coordinates">Per axis, the index of its value.</param>
/// <param name="Settings">Per axis key, the value at this point.</param>
public sealed record SweepPoint(int Index, IReadOnlyList<int> Coordinates, IReadOnlyDictionary<string, string> Settings)
{
    /// <summary>Its folder name under the sweep output: <c>point-000</c>, ...</summary>
    public string Name => $"point-{Index:D3}";
}
