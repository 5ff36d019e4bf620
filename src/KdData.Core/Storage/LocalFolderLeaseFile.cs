using System.Globalization;
using System.Text;

namespace KdData.Storage;

/// <summary>
/// The file that holds a local lease: <c>name.lease</c> in the object folder's <c>.kddata</c> sidecar, two lines (the lease
/// id, then the expiry in UTC ticks). Read and written only under <see cref="LocalFolderLock"/>; written through a temp file
/// and a rename, so a reader sees the old lease or the new one, never half of one.
/// </summary>
internal static class LocalFolderLeaseFile
{
    private const string LeaseSuffix = ".lease";

    /// <summary>The lease file of the object at <paramref name="path"/>, whose sidecar is <paramref name="sidecar"/>.</summary>
    public static string PathOf(string sidecar, string path) => Path.Combine(sidecar, Path.GetFileName(path) + LeaseSuffix);

    /// <summary>The lease held, or null when there is none (no file, or one a crash left unreadable: the lease is free).</summary>
    public static (string Id, DateTime ExpiresUtc)? Read(string leasePath)
    {
        string[] lines;
        try
        {
            lines = File.ReadAllLines(leasePath);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }

        if (lines.Length < 2 || !long.TryParse(lines[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out long ticks)
            || ticks < DateTime.MinValue.Ticks || ticks > DateTime.MaxValue.Ticks)
        {
            return null; // unreadable lease file: treat as free (it can only come from a crash mid-write)
        }

        return (lines[0], new DateTime(ticks, DateTimeKind.Utc));
    }

    /// <summary>Records <paramref name="lease"/> as held until its duration from now on <paramref name="time"/> (forever if infinite).</summary>
    public static void Write(string leasePath, ObjectLease lease, TimeProvider time)
    {
        DateTime expires = lease.Duration == Timeout.InfiniteTimeSpan ? DateTime.MaxValue : time.GetUtcNow().UtcDateTime + lease.Duration;
        string temp = leasePath + "." + Guid.NewGuid().ToString("N") + ".tmp";
        File.WriteAllText(temp, lease.LeaseId + "\n" + expires.Ticks.ToString(CultureInfo.InvariantCulture) + "\n", Encoding.UTF8);
        File.Move(temp, leasePath, overwrite: true);
    }
}
