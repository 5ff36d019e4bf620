using KdData.Hosting;
using KdData.Labeler;

return await JobHost.RunAsync(args, builder => builder.AddLabeler());
