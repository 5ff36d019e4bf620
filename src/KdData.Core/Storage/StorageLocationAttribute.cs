using System.ComponentModel.DataAnnotations;

namespace KdData.Storage;

/// <summary>
/// Validates that a setting is a storage location <see cref="StorageLocation.Parse"/> accepts, so a mistyped location
/// (e.g. a bare relative path) stops the program at start with its configuration key and the accepted forms, instead of
/// failing once the job has begun. Null passes (<see cref="RequiredAttribute"/> is for that); whether the location
/// exists is the job's business, not the syntax check's.
/// </summary>
[AttributeUsage(AttributeTargets.Property, AllowMultiple = false)]
public sealed class StorageLocationAttribute(string key) : ValidationAttribute
{
    /// <summary>The setting's configuration key (<c>Section:Name</c>), named in the error.</summary>
    public string Key { get; } = key;

    protected override ValidationResult? IsValid(object? value, ValidationContext validationContext)
    {
        ArgumentNullException.ThrowIfNull(validationContext);
        return value is string location && Check(location) is { } error
            ? new ValidationResult($"{Key}: {error}", validationContext.MemberName is { } member ? [member] : null)
            : ValidationResult.Success;
    }

    /// <summary>Null when <paramref name="location"/> parses as a storage location, else why it does not.</summary>
    public static string? Check(string location)
    {
        try
        {
            // Relative file: paths resolve against the working directory; only the form is checked here.
            StorageLocation.Parse(location, Environment.CurrentDirectory);
            return null;
        }
        catch (InvalidStorageLocationException e)
        {
            return e.Message;
        }
    }
}
