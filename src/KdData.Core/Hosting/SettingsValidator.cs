using Microsoft.Extensions.Options;

namespace KdData.Hosting;

/// <summary>
/// Validates options bound from one configuration section like <c>ValidateDataAnnotations()</c>, with messages that
/// name the key as the user writes it (<see cref="SettingMessages"/>): the section this registration bound, so
/// options bound to several sections (<c>TrainingLoopOptions</c>) are named by the one the running command uses.
/// </summary>
/// <param name="optionsName">The options name validated (<see cref="Options.DefaultName"/> for unnamed options); null validates every name.</param>
/// <param name="section">The configuration section the options are bound from, e.g. <c>Trainer:Distill</c>.</param>
/// <param name="switches">The running command's switches.</param>
public sealed class SettingsValidator<TOptions>(string? optionsName, string section, SettingSwitches switches) : IValidateOptions<TOptions>
    where TOptions : class
{
    /// <summary>The configuration section the options are bound from.</summary>
    public string Section { get; } = section;

    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        if (optionsName is not null && !string.Equals(optionsName, name, StringComparison.Ordinal))
        {
            return ValidateOptionsResult.Skip;
        }

        ArgumentNullException.ThrowIfNull(options);
        var failures = SettingMessages.Validate(options, Section, switches);
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
