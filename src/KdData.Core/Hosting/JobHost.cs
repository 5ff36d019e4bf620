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
    public static async Task<int> RunAsync(string[] args, Action<HostApplicationBuilder> configure, IDictionary<string, string>? switchMappings = null)
    {
        ArgumentNullException.ThrowIfNull(configure);
        // Configuration files sit next to the program (the build copies the root appsettings.json
        // there), so the hosts find them from any working directory; relative data locations
        // (file:samples/..., out/...) resolve against the working directory, like any CLI tool.
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = switchMappings is null ? args : [],
            ContentRootPath = AppContext.BaseDirectory,
        });
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
            try
            {
                await host.RunAsync().ConfigureAwait(false);
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

            return host.Services.GetRequiredService<JobOutcome>().ExitCode;
        }
    }
}
