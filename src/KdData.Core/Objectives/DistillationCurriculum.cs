using System.ComponentModel.DataAnnotations;

namespace KdData.Objectives;

/// <summary>
/// The temperature and alpha of each epoch: annealed from the start values (epoch 1) to the end values (the last
/// epoch) along a straight line or a half cosine, or held constant. Pure arithmetic, no torch; the training loop asks
/// once per epoch and passes the result to <see cref="ITrainingObjective.Compute"/>.
/// </summary>
/// <remarks>
/// With progress <c>u = (epoch - 1) / (epochs - 1)</c> (0 when there is one epoch) and v standing for T or alpha:
/// linear <c>v = start + (end - start) * u</c>; cosine <c>v = end + (start - end) * (1 + cos(pi * u)) / 2</c>;
/// constant <c>v = start</c>. Both curves are monotone, so every value stays between start and end and hence valid.
/// The schedule is fixed in advance (not learned, unlike e.g. Li et al. 2023, "Curriculum Temperature for Knowledge
/// Distillation"), so a resumed run gets the same values and the epoch's T and alpha can be logged before it runs.
/// </remarks>
public sealed class DistillationCurriculum
{
    private readonly DistillationCurriculumOptions _options;

    /// <exception cref="ValidationException">The options are invalid (T not positive, alpha outside [0, 1], unknown shape).</exception>
    public DistillationCurriculum(DistillationCurriculumOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Validator.ValidateObject(options, new ValidationContext(options), validateAllProperties: true);
        _options = options;
    }

    /// <summary>The schedule of <paramref name="epoch"/> (1-based) out of <paramref name="epochs"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="epochs"/> &lt; 1, or <paramref name="epoch"/> outside [1, epochs].</exception>
    public ObjectiveSchedule At(int epoch, int epochs)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(epoch, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(epoch, epochs);
        var progress = epochs == 1 ? 0.0 : (double)(epoch - 1) / (epochs - 1);
        return new ObjectiveSchedule(
            Interpolate(_options.TemperatureStart, _options.TemperatureEnd, progress),
            Interpolate(_options.AlphaStart, _options.AlphaEnd, progress));
    }

    private double Interpolate(double start, double end, double progress) => _options.Shape switch
    {
        DistillationCurriculumOptions.Linear => start + ((end - start) * progress),
        DistillationCurriculumOptions.Cosine => end + ((start - end) * 0.5 * (1 + Math.Cos(Math.PI * progress))),
        _ => start,
    };
}
