using System.ComponentModel.DataAnnotations;
using System.Globalization;
using KdData.Hosting;
using KdData.Models;

namespace KdData.Trainer;

/// <summary>
/// The <c>selftrain</c> command (Noisy Student, Xie et al. 2020), bound from <c>Trainer:SelfTrain</c>. Each round's
/// distillation is the <c>distill</c> stage itself, so every <c>Trainer:Distill:*</c>, <c>Trainer:Objective:*</c> and
/// <c>Trainer:Data:*</c> setting applies to it; the keys here are the ones self-training sets for it per round.
/// </summary>
public sealed class SelfTrainOptions
{
    public const string SectionName = "Trainer:SelfTrain";

    /// <summary>Checkpoint record (a local path) of round 1's teacher. Required.</summary>
    [Required(AllowEmptyStrings = false, ErrorMessage = "Trainer:SelfTrain:Teacher (--teacher) is required: round 1's teacher checkpoint record, e.g. samples/fashion-mnist/teacher/teacher.json.")]
    public string? Teacher { get; set; }

    /// <summary>Rounds of label-then-distil; round r + 1's teacher is round r's student (its last checkpoint). Default 3.</summary>
    [Range(1, 100)]
    public int Rounds { get; set; } = 3;

    /// <summary>
    /// Local folder for everything: <c>labels/pool/</c> and <c>labels/train/</c> (Labeler outputs, one <c>teacher=&lt;id&gt;/</c>
    /// folder per round's teacher), <c>round-N/</c> (the student, its evaluations, <c>round.json</c>) and the table
    /// (<c>selftrain.md</c>, <c>selftrain.json</c>). Default <c>out/selftrain</c>.
    /// </summary>
    [Required(AllowEmptyStrings = false)]
    public string Output { get; set; } = "out/selftrain";

    /// <summary>
    /// Student architecture (see <see cref="ModelZoo"/>). Default <c>null</c> = the teacher's. When it is the teacher's
    /// family, the settings below that are unset come from the teacher, so the default student is the teacher's own size
    /// (Noisy Student's "equal or larger").
    /// </summary>
    public string? Model { get; set; }

    /// <summary>Student convnet width (<see cref="ModelSpec.Width"/>). Default <c>null</c> = the teacher's (same family) or the family's default.</summary>
    public int? Width { get; set; }

    /// <summary>
    /// Student convnet width per round as a comma-separated list (e.g. <c>64,96,128</c>): round r's student has the r-th
    /// width, rounds past the list the last one. Noisy Student's growing students: each round's noise makes the task
    /// harder than the teacher's, so a wider student has room to pass its teacher. Each width must give a student at
    /// least as large as its round's teacher. Exclusive with <see cref="Width"/>. Default <c>null</c> = <see cref="Width"/>
    /// for every round.
    /// </summary>
    public string? Widths { get; set; }

    /// <summary>Student depth (<see cref="ModelSpec.Depth"/>: convnet blocks, wrn depth). Default <c>null</c> = as <see cref="Width"/>.</summary>
    public int? Depth { get; set; }

    /// <summary>Student wrn widen factor (<see cref="ModelSpec.WidenFactor"/>). Default <c>null</c> = as <see cref="Width"/>.</summary>
    public int? WidenFactor { get; set; }

    /// <summary>
    /// Student noise: dropout rate (convnet: before the classifier; wrn: inside every block). Noisy Student uses 0.5
    /// on the final layer. Only for architectures with dropout (convnet, wrn); set 0 for the others. Default 0.5.
    /// </summary>
    [Range(0.0, 0.95)]
    public double DropRate { get; set; } = 0.5;

    /// <summary>Allow a student with fewer parameters than its teacher (not Noisy Student; for quick tests). Default false.</summary>
    public bool AllowSmallerStudent { get; set; }

    /// <summary>Distillation epochs per round (sets <c>Trainer:Distill:Epochs</c>). Default 12.</summary>
    [Range(1, 10_000)]
    public int Epochs { get; set; } = 12;

    /// <summary>
    /// Views the teacher labels per image (<c>Labeler:ViewsPerImage</c>): seeded random resized crops (+ flip) whose boxes
    /// are stored and replayed by distillation, one per epoch — the input noise. 1 = the whole image. Default 4.
    /// </summary>
    [Range(1, 64)]
    public int Views { get; set; } = 4;

    /// <summary>Smallest crop area as a share of the image (<c>Labeler:ViewScaleMin</c>). Default 0.64.</summary>
    [Range(0.01, 1.0)]
    public double ViewScaleMin { get; set; } = 0.64;

    /// <summary>Images per teacher forward pass while labeling (<c>Labeler:BatchSize</c>). Default 256.</summary>
    [Range(1, 65_536)]
    public int LabelBatchSize { get; set; } = 256;

    /// <summary>
    /// The student width of each of <see cref="Rounds"/> rounds: <see cref="Widths"/> (the last one repeated past the
    /// list) or <see cref="Width"/> for every round (null = the teacher's).
    /// </summary>
    /// <exception cref="InvalidInputException">Both are set, or <see cref="Widths"/> has an entry that is not a positive whole number.</exception>
    public IReadOnlyList<int?> StudentWidths()
    {
        if (string.IsNullOrWhiteSpace(Widths))
        {
            return [.. Enumerable.Repeat(Width, Rounds)];
        }

        if (Width is not null)
        {
            throw new InvalidInputException(string.Create(CultureInfo.InvariantCulture,
                $"Trainer:SelfTrain:Widths (--widths) = '{Widths}' and Trainer:SelfTrain:Width (--width) = {Width} are both set; give one: --width for every round, --widths per round."));
        }

        var widths = new List<int>();
        foreach (var part in Widths.Split(',', StringSplitOptions.TrimEntries))
        {
            if (!int.TryParse(part, NumberStyles.None, CultureInfo.InvariantCulture, out var width) || width < 1)
            {
                throw new InvalidInputException(
                    $"Trainer:SelfTrain:Widths (--widths) = '{Widths}': '{part}' is not a positive whole number; give one width per round, comma-separated, e.g. 64,96,128.");
            }

            widths.Add(width);
        }

        return [.. Enumerable.Range(0, Rounds).Select(round => (int?)widths[Math.Min(round, widths.Count - 1)])];
    }
}
