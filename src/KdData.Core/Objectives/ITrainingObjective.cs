namespace KdData.Objectives;

/// <summary>
/// What a training step minimises, given the student's logits for one batch. The training loop is the same for
/// every stage (teacher, distill, fine-tune after pruning, QAT); the objective is what differs, chosen by
/// <c>Trainer:Objective:Name</c>. Implementations are stateless apart from their settings and run on the
/// training thread inside the step's dispose scope: tensors they create are disposed with it.
/// </summary>
public interface ITrainingObjective
{
    /// <summary>Configuration key of this objective, e.g. <c>ce</c> or <c>kd</c>.</summary>
    string Name { get; }

    /// <summary>True when the objective reads <see cref="ObjectiveInputs.TeacherLogits"/> (batches must carry them).</summary>
    bool NeedsTeacher { get; }

    /// <summary>
    /// The batch loss (a scalar tensor that requires grad through <see cref="ObjectiveInputs.StudentLogits"/>) and its
    /// parts for logging. <paramref name="schedule"/> holds this epoch's temperature and alpha (curriculum).
    /// </summary>
    ObjectiveLoss Compute(ObjectiveInputs inputs, ObjectiveSchedule schedule);
}
