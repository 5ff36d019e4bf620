using KdData.Hosting;
using KdData.Models;
using KdData.SoftTargets;

namespace KdData.Distillation;

/// <summary>
/// Whether a soft-target shard fits the student and its set, from its footer alone: soft targets only transfer between the
/// same classes in the same order and the same input preprocessing, and a set holds one teacher's soft targets. A misfit
/// stops the load (<see cref="InvalidInputException"/>, naming the shard) before any of its rows are used.
/// </summary>
/// <param name="classes">The student's class names, in output order.</param>
/// <param name="preprocessing">The student's input preprocessing; null to skip that check.</param>
internal sealed class ShardFooterCheck(IReadOnlyList<string> classes, PreprocessingRecord? preprocessing)
{
    /// <summary>How far a footer's mean or std may be from the student's and still count as the same (float rounding).</summary>
    private const float StatisticTolerance = 1e-6f;

    /// <summary>
    /// Throws unless <paramref name="footer"/> has the student's classes and preprocessing and the teacher of
    /// <paramref name="set"/> (its first footer, and the <c>teacher=&lt;id&gt;</c> folder it lies in, if any).
    /// </summary>
    /// <exception cref="InvalidInputException">The shard <paramref name="file"/> does not fit.</exception>
    public void Check(ShardSetState set, ShardFooter footer, string file)
    {
        if (!footer.Classes.SequenceEqual(classes, StringComparer.Ordinal))
        {
            throw new InvalidInputException(
                $"Shard '{file}' was labeled by teacher {footer.TeacherId} for the classes [{string.Join(", ", footer.Classes)}], " +
                $"but the student has [{string.Join(", ", classes)}]: soft targets only transfer between the same classes in the same order.");
        }

        if (preprocessing is { } expected &&
            (footer.Size != expected.Width || footer.Size != expected.Height || footer.Channels != expected.Channels ||
             !SameStatistics(footer.Mean, expected.Mean) || !SameStatistics(footer.Std, expected.Std)))
        {
            throw new InvalidInputException(
                $"Shard '{file}' was labeled with preprocessing size {footer.Size}, {footer.Channels} channels, mean [{string.Join(", ", footer.Mean)}], std [{string.Join(", ", footer.Std)}], " +
                $"but the student expects {expected.Width}x{expected.Height}, {expected.Channels} channels, mean [{string.Join(", ", expected.Mean)}], std [{string.Join(", ", expected.Std)}].");
        }

        var folderTeacher = TeacherOfFolder(set.Display);
        if (set.Footer is { } first && first.TeacherId != footer.TeacherId)
        {
            throw new InvalidInputException(
                $"Shard '{file}' records teacher {footer.TeacherId}, but other shards of '{set.Display}' record teacher {first.TeacherId}: a shard set holds one teacher's soft targets.");
        }

        if (folderTeacher.Length > 0 && folderTeacher != footer.TeacherId)
        {
            throw new InvalidInputException(
                $"Shard '{file}' records teacher {footer.TeacherId}, but it lies in the folder of teacher {folderTeacher}.");
        }
    }

    private static bool SameStatistics(IReadOnlyList<float> a, IReadOnlyList<float> b) =>
        a.Count == b.Count && a.Zip(b).All(p => Math.Abs(p.First - p.Second) <= StatisticTolerance);

    private static string TeacherOfFolder(string display)
    {
        var trimmed = display.TrimEnd('/', '\\');
        var start = Math.Max(trimmed.LastIndexOf('/'), trimmed.LastIndexOf('\\')) + 1;
        var segment = trimmed[start..];
        return segment.StartsWith("teacher=", StringComparison.Ordinal) ? segment["teacher=".Length..] : string.Empty;
    }
}
