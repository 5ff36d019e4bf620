namespace KdData.Trainer;

/// <summary>One axis of a sweep grid: a configuration key and the values it takes.</summary>
/// <param name="Key">The setting, e.g. <c>Trainer:Objective:Curriculum:TemperatureStart</c>.</param>
/// <param name="Values">Its values, as configuration text, in the order given.</param>
public sealed record SweepAxis(string Key, IReadOnlyList<string> Values);
