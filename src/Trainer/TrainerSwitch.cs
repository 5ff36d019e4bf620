namespace KdData.Trainer;

/// <summary>
/// A short command-line switch of a Trainer command and the configuration key it sets; <c>--epochs 5</c> is the
/// same as <c>--Trainer:Teacher:Epochs=5</c>. Values are passed to the host's configuration as text and bound
/// and validated there, so a bad value fails the same way (exit 2, key named) whichever way it was given.
/// </summary>
/// <param name="Name">The switch, e.g. <c>--epochs</c>.</param>
/// <param name="ConfigurationKey">The setting it sets, e.g. <c>Trainer:Teacher:Epochs</c>.</param>
/// <param name="Description">One line for <c>--help</c>.</param>
/// <param name="DefaultValue">The shipped default as shown in <c>--help</c> (from the options class or <c>appsettings.json</c>).</param>
/// <param name="ValueName">Placeholder for the value in <c>--help</c>, e.g. <c>n</c> or <c>location</c>.</param>
/// <param name="Repeatable">
/// The switch may be given several times; the values become the list <c>Key:0</c>, <c>Key:1</c>, ... in the order
/// given (e.g. <c>--grid a --grid b</c> sets <c>Trainer:Sweep:Grid:0=a</c> and <c>Trainer:Sweep:Grid:1=b</c>).
/// </param>
public sealed record TrainerSwitch(string Name, string ConfigurationKey, string Description, string DefaultValue, string ValueName = "value", bool Repeatable = false);
