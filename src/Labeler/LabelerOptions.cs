using System.ComponentModel.DataAnnotations;

namespace KdData.Labeler;

/// <summary>What the Labeler reads and writes. Bound from the <c>Labeler</c> section.</summary>
public sealed class LabelerOptions
{
    public const string SectionName = "Labeler";

    /// <summary>Location of the unlabeled images (see README "Locations"). Default: the committed sample pool.</summary>
    [Required]
    public string Input { get; set; } = "file:samples/fashion-mnist/unlabeled/";

    /// <summary>Concurrent fetches from storage. Default 16.</summary>
    [Range(1, 512)]
    public int FetchConcurrency { get; set; } = 16;
}
