using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace KdData.Hosting;

/// <summary>
/// The shared start-up of both hosts: Generic Host configuration layering (the repository's
/// <c>appsettings.json</c> copied next to the program, then <c>appsettings.{Environment}.json</c>,
/// environment variables such as <c>Storage__ConnectionString</c>, then the command line; keys under a moved root are
/// read under their new name with a warning, <see cref="DeprecatedSettingRoots"/>), options
/// validated at start, and the process exit code taken from <see cref="JobOutcome"/>. A bad setting (a value of the
/// wrong type, or one its options reject) is exit 2 with one line per failure on <c>error</c>, naming the key and, when
/// the program has switches (<see cref="SettingSwitches"/>), the switch.
/// </summary>
public static class JobHost
{
    /// <summary>Builds and runs a host; returns the process exit code (see <see cref="ExitCodes"/>).</summary>
    /// <param name="args">Command-line arguments (configuration overrides such as <c>--Torch:Device=cpu</c>).</param>
    /// <param name="configure">Adds the program's services, e.g. <c>builder.AddLabeler()</c>.</param>
    /// <param name="switchMappings">Short command-line switches mapped to configuration keys.</param>
    /// <param name="error">Where invalid settings are reported, one line each. Default: standard error.</param>
    /// <param name="cancellationToken">
    /// Stops the host like SIGTERM does (the job saves and exits 3); for a stage run inside another job's process.
    /// </param>
    public static async Task<int> RunAsync(string[] args, Action<HostApplicationBuilder> configure, IDictionary<string, string>? switchMappings = null,
        TextWriter? error = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(configure);
        error ??= Console.Error;
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

        foreach (var warning in DeprecatedSettingRoots.Apply(builder.Configuration))
        {
            await error.WriteLineAsync($"warning: {warning}").ConfigureAwait(false);
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
            if (switchMappings is not null)
            {
                builder.Services.TryAddSingleton(new SettingSwitches(switchMappings));
            }
            host = builder.Build();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            var switches = builder.Services.LastOrDefault(d => d.ServiceType == typeof(SettingSwitches))?.ImplementationInstance as SettingSwitches;
            await error.WriteLineAsync($"error: {SettingMessages.BindingFailure(e, switches) ?? $"invalid configuration: {e.Message}"}").ConfigureAwait(false);
            return ExitCodes.InvalidConfiguration;
        }

        using (host)
        {
            // RunAsync disposes the host's services: take the outcome first.
            var outcome = host.Services.GetRequiredService<JobOutcome>();
            var switches = host.Services.GetService<SettingSwitches>();
            try
            {
                // Validate the settings before the host starts: a failure found while starting is also logged by the
                // host itself, with a stack trace, where one line naming the key and the reason is what helps.
                host.Services.GetService<IStartupValidator>()?.Validate();
                await host.RunAsync(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception e) when (InvalidSettings(e, switches) is { } failures)
            {
                foreach (var failure in failures)
                {
                    await error.WriteLineAsync($"error: {failure}").ConfigureAwait(false);
                }

                return ExitCodes.InvalidConfiguration;
            }

            return outcome.ExitCode;
        }
    }

    /// <summary>
    /// The invalid settings <paramref name="e"/> reports, one line each (options validation, which names the keys, or
    /// a value the binder could not convert); null for any other exception.
    /// </summary>
    private static List<string>? InvalidSettings(Exception e, SettingSwitches? switches)
    {
        var failures = new List<string>();
        foreach (var inner in e is AggregateException aggregate ? aggregate.InnerExceptions : [e])
        {
            if (inner is OptionsValidationException validation)
            {
                failures.AddRange(validation.Failures);
            }
            else if (SettingMessages.BindingFailure(inner, switches) is { } failure)
            {
                failures.Add(failure);
            }
            else
            {
                return null;
            }
        }

        return failures;
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
