using System.Globalization;

namespace KdData.Storage;

/// <summary>
/// The local store's ETag: last-write time (100 ns ticks, UTC) and size, in hex. A file system keeps no version number,
/// so conditional replace (<see cref="LocalFolderObjectStore.ReplaceAsync"/>) compares these two; for that to be safe a
/// replacement must never carry the old write time, which <see cref="StampLaterThan"/> ensures.
/// </summary>
internal static class LocalFolderETag
{
    /// <summary>The ETag of an object's file.</summary>
    public static string Of(FileInfo info) => Of(info.LastWriteTimeUtc.Ticks, info.Length);

    /// <summary>The ETag of a file last written at <paramref name="lastWriteUtcTicks"/> (UTC) holding <paramref name="length"/> bytes.</summary>
    public static string Of(long lastWriteUtcTicks, long length) =>
        string.Create(CultureInfo.InvariantCulture, $"\"{lastWriteUtcTicks:x}-{length:x}\"");

    /// <summary>Ensures the replacement's write time (and so its ETag) differs from the old one even on coarse-grained file systems.</summary>
    public static void StampLaterThan(string temp, DateTime previousUtc)
    {
        DateTime stamp = DateTime.UtcNow > previousUtc ? DateTime.UtcNow : previousUtc.AddTicks(1);
        File.SetLastWriteTimeUtc(temp, stamp);
        if (File.GetLastWriteTimeUtc(temp) <= previousUtc)
        {
            File.SetLastWriteTimeUtc(temp, previousUtc.AddSeconds(2));
        }
    }
}
