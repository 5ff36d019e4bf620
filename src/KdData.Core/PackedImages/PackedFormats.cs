namespace KdData.PackedImages;

/// <summary>Which reader an object takes, and how a packed member's key is formed.</summary>
public static class PackedFormats
{
    /// <summary>Separates a container's object key from the member inside it: <c>shards/a.parquet#17</c>, <c>shards/b.tar#0001.png</c>.</summary>
    public const char MemberSeparator = '#';

    /// <summary>The format <paramref name="key"/> is read with under <paramref name="configured"/>: <see cref="InputFormat.Auto"/> decides by extension (case-insensitive).</summary>
    public static InputFormat Resolve(InputFormat configured, string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        if (configured != InputFormat.Auto)
        {
            return configured;
        }

        if (key.EndsWith(".parquet", StringComparison.OrdinalIgnoreCase))
        {
            return InputFormat.Parquet;
        }

        return key.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? InputFormat.Tar : InputFormat.Loose;
    }

    /// <summary>The key of one member: <c>&lt;object key&gt;#&lt;row index or member name&gt;</c>.</summary>
    /// <remarks>
    /// Object keys may themselves contain '#'. <see cref="TrySplitMemberKey"/> splits at the first '#' that follows a
    /// <c>.parquet</c> or <c>.tar</c> object key, so that is harmless unless a loose image's own key has that shape.
    /// </remarks>
    public static string MemberKey(string objectKey, string member) => string.Concat(objectKey, "#", member);

    /// <summary>
    /// Splits a member key back into its packed file and member, the inverse of <see cref="MemberKey"/>: at the first
    /// '#' whose left part ends in <c>.parquet</c> or <c>.tar</c> (case-insensitive, as <see cref="Resolve"/> with
    /// <see cref="InputFormat.Auto"/> decides) and whose right part is not empty. Any other key names a loose object.
    /// </summary>
    /// <param name="key">An image key, e.g. from a labels manifest or a soft-target shard.</param>
    /// <param name="objectKey">The packed file's key, e.g. <c>train/part-00000.parquet</c>.</param>
    /// <param name="member">The row index (Parquet) or member name (tar), e.g. <c>17</c> or <c>00017.png</c>.</param>
    /// <param name="format">How the packed file is read.</param>
    /// <returns>True when <paramref name="key"/> names a member of a packed file.</returns>
    public static bool TrySplitMemberKey(string key, out string objectKey, out string member, out InputFormat format)
    {
        ArgumentNullException.ThrowIfNull(key);
        for (var at = key.IndexOf(MemberSeparator, StringComparison.Ordinal); at >= 0 && at < key.Length - 1; at = key.IndexOf(MemberSeparator, at + 1))
        {
            var candidate = key[..at];
            format = Resolve(InputFormat.Auto, candidate);
            if (format != InputFormat.Loose)
            {
                objectKey = candidate;
                member = key[(at + 1)..];
                return true;
            }
        }

        objectKey = key;
        member = string.Empty;
        format = InputFormat.Loose;
        return false;
    }
}
