using System.CommandLine;
using System.CommandLine.Help;
using System.CommandLine.Invocation;
using KdData.Hosting;

namespace KdData.Trainer;

/// <summary>
/// The Trainer's command line, <c>kddata-trainer [command] [switches] [--Section:Key=value ...]</c>, built with
/// System.CommandLine from <see cref="TrainerCommands.All"/>. Without a command it runs
/// <see cref="TrainerCommands.Default"/>. Switches become configuration keys; <c>--Section:Key=value</c> (or
/// <c>--Section:Key value</c>) overrides any setting and is handed to the host's configuration untouched.
/// Anything else unknown, a switch without its value or an unknown command is exit 2 with a message.
/// System.CommandLine only parses and prints help: the job runs in the Generic Host (<see cref="JobHost"/>), which
/// owns SIGTERM handling and exit codes.
/// </summary>
public static class TrainerCommandLine
{
    private const string OverridesNote = "Any setting: --Section:Key=value (docs/configuration.md).";

    /// <summary>Runs the command line: prints help, or runs the command's job; returns the process exit code.</summary>
    /// <param name="args">The program's arguments.</param>
    /// <param name="output">Where help goes. Default: standard output.</param>
    /// <param name="error">Where command-line errors and invalid settings go. Default: standard error.</param>
    public static async Task<int> RunAsync(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        output ??= Console.Out;
        error ??= Console.Error;
        var invocation = Parse(args);
        if (invocation.Error is { } message)
        {
            await error.WriteLineAsync($"error: {message}").ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }

        if (invocation.Command is not { } command)
        {
            // Help or version: System.CommandLine answers. Its own Ctrl+C handling stays off; nothing long runs here.
            var configuration = new InvocationConfiguration { Output = output, Error = error, ProcessTerminationTimeout = null };
            return await invocation.Parse!.InvokeAsync(configuration).ConfigureAwait(false);
        }

        return await JobHost.RunAsync(
            [.. invocation.HostArguments],
            builder =>
            {
                // Before the services bind their options: a preset is a layer of the configuration they read.
                SettingsPresets.Apply(builder.Configuration, builder.Environment.ContentRootPath);
                AddServices(builder, command);
                // Messages about a setting name the switch the user may have typed for it.
                builder.Services.AddSingleton(Switches(command));
            },
            error: error).ConfigureAwait(false);
    }

    /// <summary>Parses <paramref name="args"/> against the command table without running anything.</summary>
    public static TrainerInvocation Parse(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        var (tokens, overrides) = SplitOverrides(args);
        if (overrides.FirstOrDefault(o => !o.Contains('=', StringComparison.Ordinal)) is { } bare)
        {
            return new TrainerInvocation { Error = $"setting '{bare}' has no value; write {bare}=value." };
        }

        if (tokens.Count == 0 || (tokens[0].StartsWith('-') && !IsRootOnly(tokens[0])))
        {
            tokens.Insert(0, TrainerCommands.Default);
        }
        else if (!tokens[0].StartsWith('-') && TrainerCommands.Find(tokens[0]) is null)
        {
            return new TrainerInvocation
            {
                Error = $"unknown command '{tokens[0]}'; the commands are {string.Join(", ", TrainerCommands.All.Select(c => c.Name))} (run with --help to list them).",
            };
        }

        var (root, options) = BuildRoot();
        var parse = root.Parse(tokens);
        var commandName = parse.CommandResult.Command == root ? null : parse.CommandResult.Command.Name;
        if (parse.Errors.Count > 0)
        {
            var help = commandName is null ? "--help" : $"{commandName} --help";
            return new TrainerInvocation { Parse = parse, Error = $"{string.Join(" ", parse.Errors.Select(e => e.Message))} (run '{help}' for the switches)" };
        }

        if (parse.Action is not null || commandName is null)
        {
            return new TrainerInvocation { Parse = parse };
        }

        var command = TrainerCommands.Find(commandName)!;
        var hostArguments = new List<string>();
        foreach (var entry in command.Switches)
        {
            var option = options[(command.Name, entry.Name)];
            if (parse.GetResult(option) is null)
            {
                continue;
            }
            if (option is Option<string[]> list)
            {
                var values = parse.GetValue(list) ?? [];
                hostArguments.AddRange(values.Select((v, i) => $"--{entry.ConfigurationKey}:{i}={v}"));
            }
            else if (parse.GetValue((Option<string>)option) is { } value)
            {
                hostArguments.Add($"--{entry.ConfigurationKey}={value}");
            }
        }

        hostArguments.AddRange(overrides);
        return new TrainerInvocation { Command = command, HostArguments = hostArguments, Parse = parse };
    }

    /// <summary>The services of a command's host: the core services plus the command's job and settings.</summary>
    public static void AddServices(HostApplicationBuilder builder, TrainerCommand command)
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(command);
        builder.Services.AddKdDataCore(builder.Configuration);
        command.AddJob(builder);
    }

    /// <summary>The switches of <paramref name="command"/> and the keys they set, for messages about settings.</summary>
    public static SettingSwitches Switches(TrainerCommand command)
    {
        ArgumentNullException.ThrowIfNull(command);
        return new SettingSwitches(command.Switches.Select(s => KeyValuePair.Create(s.Name, s.ConfigurationKey)));
    }

    private static (RootCommand Root, Dictionary<(string Command, string Switch), Option> Options) BuildRoot()
    {
        var root = new RootCommand(
            $"KdData Trainer: imports datasets, trains and evaluates models. Without a command it runs '{TrainerCommands.Default}'. Any setting can also be given as --Section:Key=value (e.g. --Torch:Threads=2); see docs/configuration.md.");
        var options = new Dictionary<(string Command, string Switch), Option>();
        var summaries = new Dictionary<Command, string>();
        foreach (var entry in TrainerCommands.All)
        {
            var isDefault = entry.Name == TrainerCommands.Default;
            var command = new Command(entry.Name, $"{entry.Description}{(isDefault ? " The default command: runs when none is given." : "")} {OverridesNote}");
            summaries[command] = isDefault ? $"{entry.Summary} (default)" : entry.Summary;
            foreach (var s in entry.Switches)
            {
                Option option = s.Repeatable
                    ? new Option<string[]>(s.Name)
                    {
                        Description = $"{s.Description} (sets {s.ConfigurationKey}:0, :1, ...; repeat the switch for more) [default: {s.DefaultValue}]",
                        HelpName = s.ValueName,
                        Arity = ArgumentArity.OneOrMore,
                        AllowMultipleArgumentsPerToken = false,
                    }
                    : new Option<string>(s.Name)
                    {
                        Description = $"{s.Description} (sets {s.ConfigurationKey}) [default: {s.DefaultValue}]",
                        HelpName = s.ValueName,
                    };
                command.Options.Add(option);
                options[(entry.Name, s.Name)] = option;
            }

            root.Subcommands.Add(command);
        }

        var help = root.Options.OfType<HelpOption>().Single();
        help.Action = new SummaryHelpAction((HelpAction)help.Action!, summaries);
        return (root, options);
    }

    /// <summary>
    /// Help whose command list gives one line per command, its summary; <c>&lt;command&gt; --help</c> keeps the full
    /// description. System.CommandLine lists a command with its description, so the root's help shows the
    /// summaries in their place (the command tree is built anew for every parse).
    /// </summary>
    private sealed class SummaryHelpAction(HelpAction help, IReadOnlyDictionary<Command, string> summaries) : SynchronousCommandLineAction
    {
        public override bool ClearsParseErrors => help.ClearsParseErrors;

        public override int Invoke(ParseResult parseResult)
        {
            if (parseResult.CommandResult.Command is RootCommand)
            {
                foreach (var (command, summary) in summaries)
                {
                    command.Description = summary;
                }
            }

            return help.Invoke(parseResult);
        }
    }

    // Tokens the root answers itself (help and version), so no default command is put before them.
    private static bool IsRootOnly(string token) => token is "--help" or "-h" or "-?" or "/?" or "/h" or "--version";

    /// <summary>
    /// Takes the configuration overrides out of the arguments: <c>--Section:Key=value</c>, or <c>--Section:Key</c>
    /// followed by a value that is not itself a switch. A key is recognised by the colon before any <c>=</c>,
    /// which no switch has.
    /// </summary>
    private static (List<string> Tokens, List<string> Overrides) SplitOverrides(string[] args)
    {
        var tokens = new List<string>(args.Length);
        var overrides = new List<string>();
        for (var i = 0; i < args.Length; i++)
        {
            var arg = args[i];
            var equals = arg.IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? arg : arg[..equals];
            if (!arg.StartsWith("--", StringComparison.Ordinal) || !name.Contains(':', StringComparison.Ordinal))
            {
                tokens.Add(arg);
                continue;
            }

            if (equals < 0 && i + 1 < args.Length && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
            {
                overrides.Add($"{arg}={args[++i]}");
            }
            else
            {
                overrides.Add(arg);
            }
        }

        return (tokens, overrides);
    }
}
