namespace KdData.PackedImages;

/// <summary>
/// One image inside a packed file: its name (a Parquet row index or a tar member name), its encoded bytes and its label
/// when the file carries one; or, for a member that cannot be an image (a null cell, a sample with no image), why.
/// </summary>
/// <param name="Name">Row index (Parquet) or member path (tar); the image's key is <c>&lt;object key&gt;#&lt;Name&gt;</c>.</param>
/// <param name="Bytes">The encoded image, or null when <paramref name="ErrorReason"/> is set.</param>
/// <param name="Label">The class index from the label column or the sample's <c>.cls</c>/<c>.json</c>, when there is one.</param>
/// <param name="ErrorReason">Short code of a member that is not an image (e.g. <c>null-image</c>, <c>no-image</c>, <c>too-large</c>).</param>
/// <param name="ErrorDetail">What was wrong, for the error row.</param>
public sealed record PackedMember(string Name, byte[]? Bytes, int? Label, string? ErrorReason = null, string? ErrorDetail = null);
