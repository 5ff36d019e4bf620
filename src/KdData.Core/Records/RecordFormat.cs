namespace KdData.Records;

/// <summary>
/// Layout versions of the run records: checkpoint records (with their <c>training</c> object), the lineage inside them,
/// <c>quantization.json</c> and <c>export.json</c>. Every record is written with its type's current version as
/// <c>format_version</c>, so a later change of layout can be told apart from an old file. Checkpoint records have
/// carried the field from the start; lineage, <c>quantization.json</c> and <c>export.json</c> gained it when they got
/// types, and a file without it was written before that and is read as <see cref="Legacy"/>: the layout those files
/// always had, which the types still describe.
/// </summary>
public static class RecordFormat
{
    /// <summary>The version of a record that carries none.</summary>
    public const int Legacy = 1;

    /// <summary>Stops on a version this build cannot read: below <see cref="Legacy"/>, or newer than <paramref name="current"/>.</summary>
    /// <param name="version">The record's <c>format_version</c>.</param>
    /// <param name="current">The version this build writes.</param>
    /// <param name="record">What the record is, for the message (e.g. <c>Checkpoint record</c>).</param>
    /// <exception cref="InvalidDataException">The version is outside [<see cref="Legacy"/>, <paramref name="current"/>].</exception>
    public static void Check(int version, int current, string record)
    {
        if (version < Legacy || version > current)
        {
            var readable = current == Legacy ? $"version {current}" : $"versions {Legacy} to {current}";
            throw new InvalidDataException($"{record} 'format_version' is {version}; this build reads {readable}.");
        }
    }
}
