using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

/// <summary>Builds <see cref="ObjectiveInputs"/> from small double arrays (float32 tensors, student logits with grad).</summary>
internal static class ObjectiveBatch
{
    public static Tensor Matrix(double[][] rows) =>
        tensor(rows.SelectMany(r => r.Select(v => (float)v)).ToArray()).reshape(rows.Length, rows[0].Length);

    public static ObjectiveInputs Create(double[][] student, long[] labels, double[][]? teacher = null, bool[]? hasTeacher = null) =>
        new()
        {
            StudentLogits = Matrix(student).requires_grad_(),
            Labels = tensor(labels),
            TeacherLogits = teacher is null ? null : Matrix(teacher),
            HasTeacher = hasTeacher is null ? null : tensor(hasTeacher),
        };
}
