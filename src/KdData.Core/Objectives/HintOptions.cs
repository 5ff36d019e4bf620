using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>FitNets hint term (<see cref="HintLoss"/>), bound from <c>Trainer:Objective:Hint</c>; needs the online teacher.</summary>
public sealed class HintOptions
{
    /// <summary>Add the term. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>Weight of L_hint in the step loss, &gt;= 0. Default 0.05: small, for stability (the hint's scale is the teacher's activations').</summary>
    [Range(0.0, 1e6)]
    public double Weight { get; set; } = 0.05;

    /// <summary>Module path of the guided student layer (e.g. <c>features.1</c>, <c>layer3</c>). Default <c>features.1</c> (the convnet's middle block).</summary>
    [Required]
    public string StudentLayer { get; set; } = "features.1";

    /// <summary>Module path of the teacher's hint layer. Default <c>features.1</c>.</summary>
    [Required]
    public string TeacherLayer { get; set; } = "features.1";
}
