using KdData.Storage;

namespace KdData.Distillation;

/// <summary>A store that pseudo-labeled images are fetched from, and the location string it was opened from.</summary>
/// <param name="Location">The location (from a shard footer's <c>kddata.input</c> or the settings; no credentials).</param>
/// <param name="Store">The opened store; a row's key is relative to it.</param>
public sealed record ImageSource(string Location, IObjectStore Store);
