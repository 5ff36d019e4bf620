using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace KdData.Hosting;

/// <summary>Registration of settings validated at start with messages naming their keys.</summary>
public static class SettingsServiceCollectionExtensions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> from <paramref name="section"/> and validates it at start with
    /// <see cref="SettingsValidator{TOptions}"/>: a bad value stops the host with exit 2 and a line naming the key
    /// (and the switch of the running command, from the registered <see cref="SettingSwitches"/>).
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedSettings<TOptions>(this IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(configuration);
        ArgumentException.ThrowIfNullOrEmpty(section);
        services.AddSingleton<IValidateOptions<TOptions>>(sp =>
            new SettingsValidator<TOptions>(Options.DefaultName, section, sp.GetService<SettingSwitches>() ?? SettingSwitches.None));
        return services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
    }
}
