namespace KdData.Trainer;

/// <summary>
/// One Trainer command: its name, what it does, its switches, and how it registers its job and settings with the
/// host. <see cref="TrainerCommands.All"/> is the table of them; the command line is built from it.
/// </summary>
/// <param name="Name">The command word, e.g. <c>evaluate</c>.</param>
/// <param name="Summary">What it does in a few words: its one line in the command list of <c>--help</c>.</param>
/// <param name="Description">What it does in full, for <c>&lt;command&gt; --help</c>.</param>
/// <param name="Switches">Its short switches.</param>
/// <param name="AddJob">Registers the command's hosted job and options (core services are already added).</param>
public sealed record TrainerCommand(string Name, string Summary, string Description, IReadOnlyList<TrainerSwitch> Switches, Action<HostApplicationBuilder> AddJob);
