using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>Contrastive representation distillation term (<see cref="ContrastiveRepresentationLoss"/>), bound from <c>Trainer:Objective:Crd</c>; needs the online teacher.</summary>
public sealed class CrdOptions
{
    /// <summary>Add the term. Default false.</summary>
    public bool Enabled { get; set; }

    /// <summary>Weight of L_CRD in the step loss, &gt;= 0. Default 0.8 (CRD's beta when combined with KD).</summary>
    [Range(0.0, 1e6)]
    public double Weight { get; set; } = 0.8;

    /// <summary>Size of the shared embedding space, 1-4096. Default 128 (CRD's).</summary>
    [Range(1, 4096)]
    public int Dim { get; set; } = 128;

    /// <summary>
    /// Slots per memory bank K, 2-1,000,000; capped at the number of training images. Default 4096. Memory of the two
    /// banks: 2 x K x Dim x 4 bytes (4 MiB at the defaults).
    /// </summary>
    [Range(2, 1_000_000)]
    public int BankSize { get; set; } = 4096;

    /// <summary>tau of the NCE softmax, &gt; 0. Default 0.07 (CRD's).</summary>
    [Range(1e-6, 100.0)]
    public double Temperature { get; set; } = 0.07;

    /// <summary>Momentum m of the bank update, in [0, 1). Default 0.5 (CRD's).</summary>
    [Range(0.0, 0.999999)]
    public double Momentum { get; set; } = 0.5;

    /// <summary>Student module path of the embedding; empty (default) = the penultimate embedding (input of the last Linear).</summary>
    public string StudentLayer { get; set; } = FeatureTaps.Penultimate;

    /// <summary>Teacher module path of the embedding; empty (default) = the penultimate embedding.</summary>
    public string TeacherLayer { get; set; } = FeatureTaps.Penultimate;
}
