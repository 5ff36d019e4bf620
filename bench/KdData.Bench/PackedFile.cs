namespace KdData.Bench;

/// <summary>One packed file of <c>packed</c>: its object name and the train images it holds.</summary>
/// <param name="Name">Object key under the input location, e.g. <c>shard-00000.parquet</c>.</param>
/// <param name="First">Train index of its first image.</param>
/// <param name="Count">Images in it, in train order.</param>
internal sealed record PackedFile(string Name, int First, int Count);
