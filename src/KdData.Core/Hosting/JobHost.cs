using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace KdData.Hosting;

/// <summary>
/// The shared start-up of both hosts: Generic Host configuration layering (the repository's
/// <c>appsettings.json</c> copied next to the program, then <c>appsettings.{Environment}.json</c>,
/// environment variables such as <c>Storage__ConnectionString</c>, then the command line), options
/// validated at start, and the process exit code taken from <see cref="JobOutcome"/>.
/// </summary>
public static class JobHost
{
    /// <summary>Builds and runs a host; returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    /// <param name="args">Command-line arguments (configuration overrides such as <c>--Torch:Device=cpu</c>).</param>
    /// <param name="configure">Adds the program's services, e.g. <c>builder.AddLabeler()</c>.</param>
    /// <param name="switchMappings">Short command-line switches mapped to configuration keys.</param>
    /// <param name="cancellationToken">
    /// Stops the host like SIGTERM does (the job saves and exits 3); for a stage run inside another job's process.
    /// </param>
    public static async Task<int> RunAsync(string[] args, Action<HostApplicationBuilder> configure, IDictionary<string, string>? switchMappings = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configure);
        KdData.Torch.TorchRuntime.Configure();
        // The content root is the working directory, as for any CLI tool: relative data locations
        // (file:samples/..., out/...) and appsettings.json resolve there (the repository root for
        // `dotnet run --project src/Labeler`, /app in the container). Run from anywhere else, the
        // copy of appsettings.json that the build puts next to the program is used instead.
        var builder = Host.CreateApplicationBuilder(switchMappings is null ? args : []);
        AddProgramFolderSettingsIfMissing(builder);
        if (switchMappings is not null)
        {
            builder.Configuration.AddCommandLine(args, switchMappings);
        }

        builder.Services.AddSingleton<JobOutcome>();
        builder.Services.AddOptions<HostOptions>().Configure(o =>
        {
            // SIGTERM: finish in-flight work and save progress. Kubernetes' default grace period is 30 s.
            o.ShutdownTimeout = TimeSpan.FromSeconds(25);
            o.BackgroundServiceExceptionBehavior = BackgroundServiceExceptionBehavior.StopHost;
        });

        IHost host;
        try
        {
            configure(builder);
            host = builder.Build();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            await Console.Error.WriteLineAsync($"error: invalid configuration: {e.Message}").ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }

        using (host)
        {
            var logger = host.Services.GetRequiredService<ILoggerFactory>().CreateLogger("KdData.Host");
            // RunAsync disposes the host's services: take the outcome first.
            var outcome = host.Services.GetRequiredService<JobOutcome>();
            try
            {
                // Validate the settings before the host starts: a failure found while starting is also logged by the
                // host itself, with a stack trace, where one line naming the key and the reason is what helps.
                host.Services.GetService<IStartupValidator>()?.Validate();
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (OptionsValidationException e)
            {
                foreach (var failure in e.Failures)
                {
                    logger.LogCritical("Invalid configuration ({Options}): {Failure}", e.OptionsType.Name, failure);
                }

                return ExitCodes.InvalidConfiguration;
            }
            catch (AggregateException e) when (e.InnerExceptions.All(x => x is OptionsValidationException))
            {
                foreach (var failure in e.InnerExceptions.Cast<OptionsValidationException>().SelectMany(x => x.Failures))
                {
                    logger.LogCritical("Invalid configuration: {Failure}", failure);
                }

                return ExitCodes.InvalidConfiguration;
            }

            return outcome.ExitCode;
        }
    }

    private static void AddProgramFolderSettingsIfMissing(HostApplicationBuilder builder)
    {
        var contentRoot = builder.Environment.ContentRootPath;
        var programFolder = AppContext.BaseDirectory;
        if (File.Exists(Path.Combine(contentRoot, "appsettings.json")) ||
            !File.Exists(Path.Combine(programFolder, "appsettings.json")))
        {
            return;
        }

        // Lowest precedence: everything the host already reads (environment, command line) still wins.
        var sources = (IList<Microsoft.Extensions.Configuration.IConfigurationSource>)builder.Configuration.Sources;
        var fileProvider = new Microsoft.Extensions.FileProviders.PhysicalFileProvider(programFolder);
        sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = $"appsettings.{builder.Environment.EnvironmentName}.json", Optional = true, FileProvider = fileProvider });
        sources.Insert(0, new Microsoft.Extensions.Configuration.Json.JsonConfigurationSource { Path = "appsettings.json", Optional = false, FileProvider = fileProvider });
    }
}
