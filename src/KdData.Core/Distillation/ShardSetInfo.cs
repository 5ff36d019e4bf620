namespace KdData.Distillation;

/// <summary>
/// What one shard set is, from its manifests and shard footers: enough for a checkpoint record to say
/// which teacher's soft targets a student was distilled from.
/// </summary>
/// <param name="Location">The teacher folder that was read (a location string, no credentials).</param>
/// <param name="TeacherId">The teacher id every shard's footer records (16 hex digits of the weights' SHA-256).</param>
/// <param name="TeacherWeightsSha256">Full SHA-256 of the teacher's weights, when recorded.</param>
/// <param name="TeacherSource">Where the Labeler loaded the teacher from, when recorded.</param>
/// <param name="TopK">Stored logits per row (footer <c>kddata.top_k</c>; the largest when shards differ); 0 when not recorded.</param>
/// <param name="ResizeMode">How the Labeler resized whole images (footer preprocessing <c>resize_mode</c>), when recorded.</param>
/// <param name="ViewsPerImage">Views per image the Labeler was set to (footer preprocessing <c>views_per_image</c>; the largest when shards differ).</param>
/// <param name="Manifests">Partition manifests read.</param>
/// <param name="Commits">Commits those manifests list.</param>
/// <param name="Files">Committed shard files read (accepted, rejected and errors).</param>
public sealed record ShardSetInfo(
    string Location,
    string TeacherId,
    string? TeacherWeightsSha256,
    string? TeacherSource,
    int TopK,
    string? ResizeMode,
    int ViewsPerImage,
    int Manifests,
    int Commits,
    int Files);
