using System.ComponentModel.DataAnnotations;

namespace KdData.Tests.Fixtures;

/// <summary>Runs an options object's data-annotation and <see cref="IValidatableObject"/> checks, as <c>ValidateDataAnnotations()</c> does at start.</summary>
internal static class DataAnnotations
{
    public static List<ValidationResult> Validate(object options)
    {
        var results = new List<ValidationResult>();
        Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true);
        return results;
    }
}
