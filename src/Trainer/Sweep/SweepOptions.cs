using System.ComponentModel.DataAnnotations;

namespace KdData.Trainer;

/// <summary>
/// The <c>sweep</c> command, bound from <c>Trainer:Sweep</c>: a grid of <c>distill</c> runs. Every other setting
/// (dataset, shards, epochs, objective, ...) is the distill stage's own and applies to every point; a grid axis
/// overrides one of them per point.
/// </summary>
public sealed class SweepOptions
{
    public const string SectionName = "Trainer:Sweep";

    /// <summary>
    /// The axes, one per entry: <c>Section:Key=v1,v2,...</c> naming a distill setting and its values (e.g.
    /// <c>Trainer:Objective:Curriculum:TemperatureStart=2,4,6,8</c>). Points are every combination, numbered with the
    /// last axis varying fastest. Required: at least one axis.
    /// </summary>
    [MinLength(1, ErrorMessage = "Trainer:Sweep:Grid needs at least one axis (--grid Section:Key=v1,v2,...).")]
    public List<string> Grid { get; init; } = [];

    /// <summary>
    /// Folder holding one sub-folder per point (<c>point-000</c>, <c>point-001</c>, ...: that point's distill output
    /// plus <c>sweep-point.json</c> once it finished) and the summary (<c>sweep.json</c>, <c>sweep.md</c>,
    /// <c>heatmap.png</c>). Default <c>out/sweep</c>.
    /// </summary>
    [Required]
    public string Output { get; set; } = "out/sweep";

    /// <summary>
    /// Run only grid point N (0-based), for scale-out: one point per Kubernetes Indexed Job pod or per Container Apps
    /// job. The run that finishes the last point (every point's <c>sweep-point.json</c> present) writes the summary;
    /// a run without an index also does, after training whatever is unfinished. Default <c>null</c> = every point in
    /// turn, then the summary.
    /// </summary>
    [Range(0, 100_000)]
    public int? Index { get; set; }
}
