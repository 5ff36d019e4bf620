namespace KdData.Objectives;

/// <summary>The distillation temperature T and the KD weight alpha in force for a step (see <c>DistillationCurriculum</c>).</summary>
/// <param name="Temperature">T &gt; 0; 1 when the objective ignores it.</param>
/// <param name="Alpha">Weight of the KD term on labeled samples, in [0, 1]; the CE term gets 1 - alpha.</param>
public readonly record struct ObjectiveSchedule(double Temperature, double Alpha)
{
    /// <summary>T = 1, alpha = 0: plain supervised training.</summary>
    public static ObjectiveSchedule Supervised => new(1.0, 0.0);
}
