using KdData.Objectives;

namespace KdData.Tests.Fixtures;

/// <summary>
/// Passes through to an objective, keeping a host copy of the teacher logits each step received (and checking that they
/// carry no grad).
/// </summary>
internal sealed class RecordingObjective(ITrainingObjective inner) : ITrainingObjective
{
    public List<float[]> TeacherLogits { get; } = [];

    public List<bool> AllHaveTeacher { get; } = [];

    public string Name => inner.Name;

    public bool NeedsTeacher => inner.NeedsTeacher;

    public ObjectiveLoss Compute(ObjectiveInputs inputs, ObjectiveSchedule schedule)
    {
        Assert.NotNull(inputs.TeacherLogits);
        Assert.False(inputs.TeacherLogits.requires_grad);
        TeacherLogits.Add(inputs.TeacherLogits.data<float>().ToArray());
        AllHaveTeacher.Add(inputs.HasTeacher is null);
        return inner.Compute(inputs, schedule);
    }
}
