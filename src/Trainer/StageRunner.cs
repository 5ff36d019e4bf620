using KdData.Hosting;

namespace KdData.Trainer;

/// <summary>
/// Runs another Trainer command (<c>distill</c>, <c>evaluate</c>) inside this process as its own Generic Host, with
/// this host's configuration (appsettings, environment, command line: every <c>--Trainer:Distill:*</c> or
/// <c>--Trainer:Objective:*</c> given to <c>selftrain</c> or <c>sweep</c> reaches the stage) plus per-call settings that win over it.
/// So self-training and sweeps reuse the stages as they are, settings, validation, checkpoints, resume and exit codes
/// included, instead of a second copy of their code.
/// </summary>
internal sealed class StageRunner(IConfiguration configuration)
{
    /// <summary>Runs <paramref name="commandName"/>'s job to completion; returns its exit code (see <see cref="ExitCodes"/>).</summary>
    /// <param name="commandName">A command of <see cref="TrainerCommands.All"/>.</param>
    /// <param name="settings">Configuration keys for this run; a null value removes the key (the stage's default applies).</param>
    /// <param name="cancellationToken">Stops the stage as SIGTERM would: it saves and returns <see cref="ExitCodes.Interrupted"/>.</param>
    public Task<int> RunAsync(string commandName, IReadOnlyDictionary<string, string?> settings, CancellationToken cancellationToken = default)
    {
        var command = TrainerCommands.Find(commandName) ?? throw new ArgumentException($"Unknown Trainer command '{commandName}'.", nameof(commandName));
        return JobHost.RunAsync(
            [],
            builder =>
            {
                builder.Configuration.AddConfiguration(configuration, shouldDisposeConfiguration: false);
                builder.Configuration.AddInMemoryCollection(settings);
                TrainerCommandLine.AddServices(builder, command);
            },
            cancellationToken: cancellationToken);
    }
}
