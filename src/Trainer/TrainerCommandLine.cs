namespace KdData.Trainer;

/// <summary>
/// The Trainer's command line: <c>kddata-trainer [command] [--switch value ...]</c>.
/// Commands: <c>teacher</c> (default) trains the teacher; <c>import</c> imports an IDX dataset.
/// Any setting can also be given as <c>--Section:Key=value</c>.
/// </summary>
public static class TrainerCommandLine
{
    public const string Teacher = "teacher";
    public const string Import = "import";
    public const string Distill = "distill";

    /// <summary>Short switches and the settings they set.</summary>
    public static IDictionary<string, string> SwitchMappings { get; } = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase)
    {
        ["--source"] = "Import:Source",
        ["--dest"] = "Import:Destination",
        ["--labeled-fraction"] = "Import:LabeledFraction",
        ["--seed"] = "Import:Seed",
        ["--classes"] = "Import:Classes",
        ["--train-limit"] = "Import:TrainLimit",
        ["--test-limit"] = "Import:TestLimit",
        ["--dataset"] = "Trainer:Data:Dataset",
        ["--output"] = "Trainer:Output",
        ["--epochs"] = "Trainer:Teacher:Epochs",
        ["--model"] = "Trainer:Model:Name",
        ["--device"] = "Torch:Device",
    };

    /// <summary>Splits off the command (the first argument when it is not a switch).</summary>
    public static (string Command, string[] Arguments) Split(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Length > 0 && !args[0].StartsWith('-'))
        {
            var command = args[0].ToLowerInvariant();
            if (command is not (Teacher or Import or Distill))
            {
                throw new ArgumentException($"Unknown command '{args[0]}'; expected '{Teacher}' or '{Import}'.", nameof(args));
            }

            return (command, args[1..]);
        }

        return (Teacher, args);
    }
}
