using KdData.Hosting;
using KdData.Labeler;

return await LabelerCommandLine.RunAsync(args, settings => JobHost.RunAsync(settings, builder => builder.AddLabeler()));
