using KdData.Trainer;

return await TrainerCommandLine.RunAsync(args);
