namespace KdData.Training;

/// <summary>
/// What one evaluation batch of <see cref="TrainingLoop"/> measured, for <see cref="EpochTotals"/>: the summed
/// cross-entropy and correct predictions, and over the samples with a teacher row their number, the summed
/// KL(teacher || student) at T = 1 and the arg-max agreements.
/// </summary>
internal readonly record struct EvaluationStepResult(double LossSum, long Correct, long TeacherSamples, double TeacherKlSum, long Agreements);
