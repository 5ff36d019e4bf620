namespace KdData.Trainer;

/// <summary>
/// What a Trainer command line asks for: a command to run with the configuration arguments for its host, or
/// something the command line answers itself (help, version), or an error (exit 2).
/// </summary>
public sealed record TrainerInvocation
{
    /// <summary>The command to run; null for help/version and for errors.</summary>
    public TrainerCommand? Command { get; init; }

    /// <summary>
    /// Arguments for the host's configuration: each given switch as <c>--Key=value</c>, then the
    /// <c>--Section:Key=value</c> overrides as typed (so an override wins over a switch for the same key).
    /// </summary>
    public IReadOnlyList<string> HostArguments { get; init; } = [];

    /// <summary>The parse result, for help and version; null when the command line was rejected before parsing.</summary>
    public System.CommandLine.ParseResult? Parse { get; init; }

    /// <summary>Why the command line was rejected; null when it was not.</summary>
    public string? Error { get; init; }
}
