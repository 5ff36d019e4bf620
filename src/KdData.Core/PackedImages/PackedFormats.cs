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
    /// <remarks>Object keys may themselves contain '#'; nothing splits a member key back, so that is harmless.</remarks>
    public static string MemberKey(string objectKey, string member) => string.Concat(objectKey, "#", member);
}
