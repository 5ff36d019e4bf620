using KdData.Hosting;
using KdData.Trainer;

string command;
string[] rest;
try
{
    (command, rest) = TrainerCommandLine.Split(args);
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return ExitCodes.InvalidConfiguration;
}

return await JobHost.RunAsync(rest, builder => builder.AddTrainer(command), TrainerCommandLine.SwitchMappings);
