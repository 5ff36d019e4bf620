using System.ComponentModel.DataAnnotations;
using KdData.Models;

namespace KdData.Trainer;

/// <summary>Where the Trainer writes and which model it trains. Bound from the <c>Trainer</c> section.</summary>
public sealed class TrainerOptions
{
    public const string SectionName = "Trainer";

    /// <summary>Local folder for checkpoints and <c>metrics.jsonl</c>. Default <c>out/teacher</c>.</summary>
    [Required]
    public string Output { get; set; } = "out/teacher";

    /// <summary>Architecture the <c>teacher</c> stage trains (see <see cref="ModelZoo"/>); the student of <c>distill</c> is <c>Trainer:Distill:Model</c>. Default: <c>convnet</c> with its default width and depth.</summary>
    [Required]
    public ModelSpec Model { get; set; } = new() { Name = ModelFamilies.ConvNet };

    /// <summary>
    /// Named preset (<c>--preset</c>): the settings in <c>presets/&lt;name&gt;.json</c>, layered over appsettings.json
    /// before the options are bound (see <see cref="KdData.Hosting.SettingsPresets"/>). Default <c>null</c> = none.
    /// </summary>
    public string? Preset { get; set; }
}
