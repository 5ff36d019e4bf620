using System.Collections;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using System.Text.RegularExpressions;

namespace KdData.Hosting;

/// <summary>
/// Turns what DataAnnotations and the configuration binder say about a bad setting into one line in the user's
/// words: the full key as it would be written in <c>appsettings.json</c> or on the command line (the section the
/// options were bound from plus the member: <c>Trainer:Distill:Epochs</c>, not <c>Epochs</c> of
/// <c>TrainingLoopOptions</c>), its switch where the command has one, the rule and the value given, e.g.
/// <c>Trainer:Distill:Epochs (--epochs) must be between 1 and 100000; got 0</c>.
/// </summary>
/// <remarks>
/// Messages an options class writes itself (<see cref="IValidatableObject"/>, a custom <c>ErrorMessage</c>) are kept:
/// one that names its key already gets only the switch added; one that starts with the member's name
/// (<c>MinLearningRate (0.5) must not exceed ...</c>) gets the name replaced by the key, so a class bound to several
/// sections (<c>TrainingLoopOptions</c>: <c>Trainer:Teacher</c>, <c>Trainer:Distill</c>, ...) is named by the section
/// actually bound; any other is prefixed with the key. A custom <c>ErrorMessage</c> may use <c>{0}</c> for the key.
/// </remarks>
public static partial class SettingMessages
{
    /// <summary>
    /// Validates <paramref name="options"/> as <c>ValidateDataAnnotations()</c> does (attributes of every property,
    /// then <see cref="IValidatableObject.Validate"/> when they pass) and describes each failure as one line.
    /// </summary>
    /// <param name="options">The bound options.</param>
    /// <param name="section">The configuration section they were bound from, e.g. <c>Trainer:Distill</c>.</param>
    /// <param name="switches">The running command's switches; default none.</param>
    /// <returns>The failures, one line each; empty when the options are valid.</returns>
    public static IReadOnlyList<string> Validate(object options, string section, SettingSwitches? switches = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrEmpty(section);
        switches ??= SettingSwitches.None;
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return [.. results.Select(r => switches.NameSwitches(Describe(options, section, r))).Distinct(StringComparer.Ordinal)];
    }

    /// <summary>
    /// The configuration binder's "Failed to convert configuration value 'abc' at 'Trainer:Distill:Epochs' to type
    /// 'System.Int32'" (a value that is not of the setting's type) as one line naming the key, or null when
    /// <paramref name="exception"/> is not that.
    /// </summary>
    public static string? BindingFailure(Exception exception, SettingSwitches? switches = null)
    {
        ArgumentNullException.ThrowIfNull(exception);
        switches ??= SettingSwitches.None;
        for (var e = exception; e is not null; e = e.InnerException)
        {
            if (e is InvalidOperationException && ConversionFailure().Match(e.Message) is { Success: true } match)
            {
                var key = match.Groups["key"].Value;
                return $"{switches.Label(key)} must be {Expected(match.Groups["type"].Value)}; got '{match.Groups["value"].Value}'";
            }
        }

        return null;
    }

    private static string Describe(object options, string section, ValidationResult result)
    {
        var message = string.IsNullOrWhiteSpace(result.ErrorMessage) ? "is invalid" : result.ErrorMessage;
        if (result.MemberNames.FirstOrDefault() is not { } member)
        {
            return message.Contains(section + ":", StringComparison.OrdinalIgnoreCase) || SettingSwitches.FindKey(message, section) >= 0
                ? message
                : $"{section}: {message}";
        }

        var key = $"{section}:{member.Replace('.', ':')}";
        return Property(options, member) is var (owner, property) && AttributeFailure(owner, property, key) is { } failure
            ? failure
            : Keyed(message, key, member);
    }

    /// <summary>The first attribute of <paramref name="property"/> its value fails, described; null when none does.</summary>
    private static string? AttributeFailure(object owner, PropertyInfo property, string key)
    {
        var value = property.GetValue(owner);
        var context = new ValidationContext(owner) { MemberName = property.Name, DisplayName = key };
        foreach (var attribute in property.GetCustomAttributes<ValidationAttribute>(inherit: true))
        {
            if (attribute.GetValidationResult(value, context) is not { } failed)
            {
                continue;
            }

            var ownMessage = attribute.ErrorMessage is not null || attribute.ErrorMessageResourceType is not null;
            return attribute switch
            {
                RequiredAttribute when !ownMessage => $"{key} must be set",
                RangeAttribute range when !ownMessage => $"{key} must be {Interval(range)}; got {Show(value)}",
                _ => WithValue(Keyed(failed.ErrorMessage ?? "is invalid", key, property.Name), value),
            };
        }

        return null;
    }

    /// <summary><paramref name="message"/> naming <paramref name="key"/>: as it is, with the member's name replaced, or prefixed.</summary>
    private static string Keyed(string message, string key, string member)
    {
        if (SettingSwitches.FindKey(message, key) >= 0)
        {
            return message;
        }

        foreach (var name in new[] { member, member[(member.LastIndexOf('.') + 1)..] })
        {
            if (message.StartsWith(name, StringComparison.Ordinal) && (message.Length == name.Length || !char.IsLetterOrDigit(message[name.Length])))
            {
                return key + message[name.Length..];
            }
        }

        return $"{key}: {message}";
    }

    /// <summary><paramref name="message"/> with the value given, unless it says it already (quoted, or as a whole number).</summary>
    private static string WithValue(string message, object? value)
    {
        if (value is null)
        {
            return message;
        }

        var shown = Show(value);
        var said = value is string
            ? message.Contains(shown, StringComparison.Ordinal)
            : Regex.IsMatch(message, $@"(?<![\w.]){Regex.Escape(shown)}(?![\w.])", RegexOptions.None, TimeSpan.FromSeconds(1));
        return said ? message : $"{message.TrimEnd('.')}; got {shown}";
    }

    private static string Interval(RangeAttribute range)
    {
        var (min, max) = (Convert.ToString(range.Minimum, CultureInfo.InvariantCulture), Convert.ToString(range.Maximum, CultureInfo.InvariantCulture));
        return range.MinimumIsExclusive || range.MaximumIsExclusive
            ? $"in {(range.MinimumIsExclusive ? '(' : '[')}{min}, {max}{(range.MaximumIsExclusive ? ')' : ']')}"
            : $"between {min} and {max}";
    }

    private static string Show(object? value) => value switch
    {
        null => "nothing",
        string text => $"'{text}'",
        IFormattable formattable => formattable.ToString(null, CultureInfo.InvariantCulture),
        IEnumerable items => $"[{string.Join(", ", items.Cast<object?>().Select(Show))}]",
        _ => value.ToString() ?? string.Empty,
    };

    /// <summary>The property a member path (<c>Curriculum.AlphaEnd</c>) names, and the object that holds it.</summary>
    private static (object Owner, PropertyInfo Property)? Property(object options, string member)
    {
        var owner = options;
        var parts = member.Split('.');
        for (var i = 0; ; i++)
        {
            if (owner.GetType().GetProperty(parts[i], BindingFlags.Public | BindingFlags.Instance) is not { } property)
            {
                return null;
            }

            if (i == parts.Length - 1)
            {
                return (owner, property);
            }

            if (property.GetValue(owner) is not { } next)
            {
                return null;
            }

            owner = next;
        }
    }

    private static string Expected(string typeName)
    {
        var type = Type.GetType(typeName)
            ?? AppDomain.CurrentDomain.GetAssemblies().Select(a => a.GetType(typeName)).FirstOrDefault(t => t is not null);
        type = type is null ? null : Nullable.GetUnderlyingType(type) ?? type;
        return type switch
        {
            { IsEnum: true } => $"one of {string.Join(", ", Enum.GetNames(type))}",
            _ when type == typeof(int) || type == typeof(long) || type == typeof(short) || type == typeof(byte)
                || type == typeof(uint) || type == typeof(ulong) || type == typeof(ushort) => "a whole number",
            _ when type == typeof(double) || type == typeof(float) || type == typeof(decimal) => "a number",
            _ when type == typeof(bool) => "true or false",
            _ when type == typeof(TimeSpan) => "a time span such as 00:00:30",
            _ => $"a value of type {type?.Name ?? typeName}",
        };
    }

    [GeneratedRegex(@"^Failed to convert configuration value '(?<value>.*)' at '(?<key>[^']+)' to type '(?<type>[^']+)'\.?$", RegexOptions.Singleline)]
    private static partial Regex ConversionFailure();
}
