using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>Attention transfer term (<see cref="AttentionTransferLoss"/>), bound from <c>Trainer:Objective:Attention</c>; needs the online teacher.</summary>
public sealed class AttentionTransferOptions
{
    /// <summary>Add the term. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>Weight of L_AT in the step loss (on top of beta), &gt;= 0. Default 1.</summary>
    [Range(0.0, 1e6)]
    public double Weight { get; set; } = 1.0;

    /// <summary>beta of the paper, &gt; 0. Default 1000 (the paper's, with the loss in its reference form: see <see cref="AttentionTransferLoss"/>).</summary>
    [Range(1e-9, 1e9)]
    public double Beta { get; set; } = AttentionTransferLoss.DefaultBeta;

    /// <summary>Comma-separated student module paths, paired in order with <see cref="TeacherLayers"/>. Default the convnet's three blocks.</summary>
    [Required]
    public string StudentLayers { get; set; } = "features.0,features.1,features.2";

    /// <summary>Comma-separated teacher module paths, as many as <see cref="StudentLayers"/>. Default the convnet's three blocks.</summary>
    [Required]
    public string TeacherLayers { get; set; } = "features.0,features.1,features.2";
}
