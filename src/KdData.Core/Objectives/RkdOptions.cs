using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>Relational KD term (<see cref="RelationalKdLoss"/>), bound from <c>Trainer:Objective:Rkd</c>; needs the online teacher.</summary>
public sealed class RkdOptions
{
    /// <summary>Add the term. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>Weight of L_RKD in the step loss (on top of lambda_D and lambda_A), &gt;= 0. Default 1 (the paper's weights then apply as published).</summary>
    [Range(0.0, 1e6)]
    public double Weight { get; set; } = 1.0;

    /// <summary>lambda_D, &gt;= 0. Default 25 (the paper's).</summary>
    [Range(0.0, 1e6)]
    public double DistanceWeight { get; set; } = RelationalKdLoss.DefaultDistanceWeight;

    /// <summary>lambda_A, &gt;= 0. Default 50 (the paper's).</summary>
    [Range(0.0, 1e6)]
    public double AngleWeight { get; set; } = RelationalKdLoss.DefaultAngleWeight;

    /// <summary>Student module path of the embedding; empty (default) = the penultimate embedding (input of the last Linear).</summary>
    public string StudentLayer { get; set; } = FeatureTaps.Penultimate;

    /// <summary>Teacher module path of the embedding; empty (default) = the penultimate embedding.</summary>
    public string TeacherLayer { get; set; } = FeatureTaps.Penultimate;
}
