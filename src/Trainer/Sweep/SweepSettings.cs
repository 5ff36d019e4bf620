using System.Collections;
using System.Reflection;
using KdData.Augmentation;
using KdData.Distillation;
using KdData.Hosting;
using KdData.Imaging;
using KdData.Objectives;
using KdData.Torch;
using KdData.Training;

namespace KdData.Trainer;

/// <summary>
/// What a sweep may vary: the settings the <c>distill</c> stage binds (the same option classes and sections as
/// <see cref="TrainerHostExtensions.AddDistillJob"/>, plus imaging and torch). Used at start to reject an axis whose
/// key binds to nothing (a typo would otherwise run the same distillation N times) and to bind and validate every
/// point's settings before the first point trains, so a bad value on the last point stops the sweep at once.
/// </summary>
public static class SweepSettings
{
    /// <summary>The distill stage's option classes and the sections they bind from.</summary>
    public static IReadOnlyList<(string Section, Type Options)> Sections { get; } =
    [
        (DistillOptions.SectionName, typeof(DistillOptions)),
        (DistillOptions.SectionName, typeof(TrainingLoopOptions)),
        (ShardSelectionOptions.SectionName, typeof(ShardSelectionOptions)),
        (DistillationMixOptions.SectionName, typeof(DistillationMixOptions)),
        (DistillationAugmentOptions.SectionName, typeof(DistillationAugmentOptions)),
        (TrainingDataOptions.SectionName, typeof(TrainingDataOptions)),
        (ObjectiveOptions.SectionName, typeof(ObjectiveOptions)),
        (ObjectiveOptions.SectionName, typeof(RepresentationOptions)),
        (ImageOptions.SectionName, typeof(ImageOptions)),
        (TorchOptions.SectionName, typeof(TorchOptions)),
    ];

    /// <summary>Keys the sweep sets itself, so an axis may not.</summary>
    public static IReadOnlyList<string> Reserved { get; } = [$"{DistillOptions.SectionName}:{nameof(DistillOptions.Output)}"];

    /// <summary>Null when <paramref name="key"/> is a distill setting a grid may vary, else why not.</summary>
    public static string? Check(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (Reserved.Any(r => string.Equals(r, key, StringComparison.OrdinalIgnoreCase)))
        {
            return $"'{key}' is set by the sweep itself (each point's output folder).";
        }
        foreach (var (section, type) in Sections)
        {
            if (key.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase) && Resolves(type, key[(section.Length + 1)..].Split(':')))
            {
                return null;
            }
        }
        return $"'{key}' is not a setting of the distill stage (sections: {string.Join(", ", Sections.Select(s => s.Section).Distinct())}).";
    }

    /// <summary>
    /// Binds every distill option class from <paramref name="configuration"/> (a point's effective settings) and
    /// validates it as the distill host would at start; returns the failures, one line each naming the key (empty = valid).
    /// </summary>
    public static IReadOnlyList<string> Validate(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var failures = new List<string>();
        foreach (var (section, type) in Sections)
        {
            var options = Activator.CreateInstance(type)!;
            try
            {
                configuration.GetSection(section).Bind(options);
            }
            catch (InvalidOperationException e)
            {
                failures.Add(SettingMessages.BindingFailure(e) ?? $"{section}: {e.InnerException?.Message ?? e.Message}");
                continue;
            }
            failures.AddRange(SettingMessages.Validate(options, section));
        }
        return failures;
    }

    private static bool Resolves(Type type, ReadOnlySpan<string> path)
    {
        if (path.Length == 0)
        {
            return IsLeaf(type);
        }
        if (IsLeaf(type))
        {
            return false;
        }
        if (type != typeof(string) && typeof(IEnumerable).IsAssignableFrom(type))
        {
            // A list index or dictionary key, then the element.
            var element = type.IsArray ? type.GetElementType()! : type.GetGenericArguments().LastOrDefault() ?? typeof(string);
            return Resolves(element, path[1..]);
        }
        var property = type.GetProperty(path[0], BindingFlags.Public | BindingFlags.Instance | BindingFlags.IgnoreCase);
        return property is { CanWrite: true } && Resolves(property.PropertyType, path[1..]);
    }

    private static bool IsLeaf(Type type)
    {
        var t = Nullable.GetUnderlyingType(type) ?? type;
        return t.IsPrimitive || t.IsEnum || t == typeof(string) || t == typeof(decimal) || t == typeof(TimeSpan) || t == typeof(Uri);
    }
}
