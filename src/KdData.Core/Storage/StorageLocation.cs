using System.Diagnostics;

namespace KdData.Storage;

/// <summary>
/// Where a store is rooted, parsed from a configuration string:
/// <list type="bullet">
/// <item><c>file:samples/x/</c> — relative to a base directory supplied by the caller (e.g. the host content root);</item>
/// <item><c>file:///abs/path/</c> or a plain absolute path;</item>
/// <item><c>az://container/prefix/</c> — the account comes from the <see cref="StorageOptions"/> connection settings;</item>
/// <item><c>https://&lt;account&gt;.blob.core.windows.net/&lt;container&gt;/&lt;prefix&gt;</c> (optionally with a SAS query);</item>
/// <item><c>http://127.0.0.1:PORT/devstoreaccount1/container/prefix</c> — path-style (Azurite/emulator) URL, used when the host
/// is an IP address or <c>localhost</c>, or the first segment is <c>devstoreaccount1</c>.</item>
/// </list>
/// The prefix is always treated as a folder: it is empty or ends with '/'.
/// <see cref="ToString"/> never includes a SAS token.
/// </summary>
public sealed class StorageLocation
{
    private const string EmulatorAccount = "devstoreaccount1";
    private const string Formats =
        "expected file:relative/path/, file:///absolute/path/, an absolute path, az://container/prefix/, " +
        "https://<account>.blob.core.windows.net/<container>/<prefix> or http://<host>:<port>/<account>/<container>/<prefix>";

    private StorageLocation(StorageLocationKind kind, string? localPath, Uri? serviceUri, string? accountName, string? containerName, string prefix, string? sasToken)
    {
        Kind = kind;
        LocalPath = localPath;
        ServiceUri = serviceUri;
        AccountName = accountName;
        ContainerName = containerName;
        Prefix = prefix;
        SasToken = sasToken;
    }

    public StorageLocationKind Kind { get; }

    /// <summary>Full path of the local root folder, ending with a directory separator (local only).</summary>
    public string? LocalPath { get; }

    /// <summary>Blob service endpoint (e.g. <c>https://acct.blob.core.windows.net/</c>), without SAS; null for <c>az://</c> (taken from settings).</summary>
    public Uri? ServiceUri { get; }

    /// <summary>Storage account name when the location names it; null for <c>az://</c>.</summary>
    public string? AccountName { get; }

    /// <summary>Blob container (Azure only).</summary>
    public string? ContainerName { get; }

    /// <summary>Blob name prefix inside the container: empty or ending with '/' (empty for local).</summary>
    public string Prefix { get; }

    /// <summary>SAS token (without '?') carried by the location URL, if any. Never printed.</summary>
    internal string? SasToken { get; }

    /// <summary>Parses <paramref name="location"/>; relative <c>file:</c> paths are resolved against <paramref name="baseDirectory"/>.</summary>
    /// <exception cref="InvalidStorageLocationException">The string is not one of the supported forms.</exception>
    public static StorageLocation Parse(string location, string baseDirectory)
    {
        ArgumentNullException.ThrowIfNull(location);
        ArgumentNullException.ThrowIfNull(baseDirectory);
        string text = location.Trim();
        if (text.Length == 0)
        {
            throw new InvalidStorageLocationException(location, "it is empty; " + Formats, null);
        }

        if (text.StartsWith("az://", StringComparison.OrdinalIgnoreCase))
        {
            if (text.Contains('?', StringComparison.Ordinal))
            {
                throw new InvalidStorageLocationException(location, "az:// locations cannot carry a query (put a SAS token in Storage:SasToken)", null);
            }

            (string container, string prefix) = SplitContainer(location, text["az://".Length..]);
            return new StorageLocation(StorageLocationKind.AzureBlob, null, null, null, container, prefix, null);
        }

        if (text.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return ParseFile(location, text, baseDirectory);
        }

        if (text.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
        {
            return ParseHttp(location, text);
        }

        if (Path.IsPathFullyQualified(text))
        {
            return Local(location, text);
        }

        throw new InvalidStorageLocationException(location, Formats, null);
    }

    /// <summary>A location for an absolute local folder (no parsing of URL forms).</summary>
    public static StorageLocation ForLocalFolder(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Path.IsPathFullyQualified(path))
        {
            throw new InvalidStorageLocationException(path, "a local folder location must be an absolute path", null);
        }

        return Local(path, path);
    }

    public override string ToString() => Kind switch
    {
        StorageLocationKind.LocalFolder => LocalPath!,
        _ when ServiceUri is null => $"az://{ContainerName}/{Prefix}",
        _ => $"{ServiceUri.GetLeftPart(UriPartial.Path).TrimEnd('/')}/{ContainerName}/{Prefix}",
    };

    /// <summary>Removes query strings and credential-looking content before a location is shown in a message.</summary>
    internal static string Redact(string location)
    {
        if (location.Contains("AccountKey", StringComparison.OrdinalIgnoreCase)
            || location.Contains("SharedAccessSignature", StringComparison.OrdinalIgnoreCase)
            || (location.Contains("sig=", StringComparison.OrdinalIgnoreCase) && !location.Contains('?', StringComparison.Ordinal)))
        {
            return "<value looks like a connection string or credential; not shown>";
        }

        int query = location.IndexOf('?', StringComparison.Ordinal);
        return query < 0 ? location : location[..query] + "?<query removed>";
    }

    private static StorageLocation ParseFile(string location, string text, string baseDirectory)
    {
        string rest = text["file:".Length..];
        string path;
        if (rest.StartsWith("//", StringComparison.Ordinal))
        {
            if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || !uri.IsFile)
            {
                throw new InvalidStorageLocationException(location, "not a valid file:// URI", null);
            }

            if (!string.IsNullOrEmpty(uri.Host) && !string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase))
            {
                throw new InvalidStorageLocationException(location, $"file URIs on a remote host ('{uri.Host}') are not supported; mount the share and use its path", null);
            }

            path = uri.LocalPath;
        }
        else
        {
            if (rest.Length == 0)
            {
                throw new InvalidStorageLocationException(location, "the path after 'file:' is empty", null);
            }

            path = Path.IsPathFullyQualified(rest) ? rest : Path.Combine(baseDirectory, rest);
        }

        return Local(location, path);
    }

    private static StorageLocation Local(string location, string path)
    {
        string full;
        try
        {
            full = Path.GetFullPath(path);
        }
        catch (Exception ex) when (ex is ArgumentException or NotSupportedException or PathTooLongException)
        {
            throw new InvalidStorageLocationException(location, "the path is not valid on this system", ex);
        }

        if (!Path.EndsInDirectorySeparator(full))
        {
            full += Path.DirectorySeparatorChar;
        }

        return new StorageLocation(StorageLocationKind.LocalFolder, full, null, null, null, string.Empty, null);
    }

    private static StorageLocation ParseHttp(string location, string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || string.IsNullOrEmpty(uri.Host))
        {
            throw new InvalidStorageLocationException(location, "not a valid URL", null);
        }

        string? sas = uri.Query.Length > 1 ? uri.Query[1..] : null;
        string path = Uri.UnescapeDataString(uri.AbsolutePath.TrimStart('/'));
        string authority = uri.GetLeftPart(UriPartial.Authority);
        string firstSegment = path.Split('/')[0];
        bool pathStyle = uri.HostNameType is UriHostNameType.IPv4 or UriHostNameType.IPv6
            || string.Equals(uri.Host, "localhost", StringComparison.OrdinalIgnoreCase)
            || string.Equals(firstSegment, EmulatorAccount, StringComparison.Ordinal);

        string account;
        Uri serviceUri;
        string rest;
        if (pathStyle)
        {
            if (firstSegment.Length == 0)
            {
                throw new InvalidStorageLocationException(location, "a path-style (emulator) URL needs /<account>/<container>/ after the host", null);
            }

            account = firstSegment;
            serviceUri = new Uri($"{authority}/{account}");
            rest = path.Length > account.Length ? path[(account.Length + 1)..] : string.Empty;
        }
        else
        {
            account = uri.Host.Split('.')[0];
            serviceUri = new Uri(authority + "/");
            rest = path;
        }

        Debug.Assert(!rest.StartsWith('/'), "Leading slash was removed above.");
        (string container, string prefix) = SplitContainer(location, rest);
        return new StorageLocation(StorageLocationKind.AzureBlob, null, serviceUri, account, container, prefix, sas);
    }

    private static (string Container, string Prefix) SplitContainer(string location, string rest)
    {
        int slash = rest.IndexOf('/', StringComparison.Ordinal);
        string container = slash < 0 ? rest : rest[..slash];
        string prefix = slash < 0 ? string.Empty : rest[(slash + 1)..];
        if (container.Length == 0)
        {
            throw new InvalidStorageLocationException(location, "the container name is missing", null);
        }

        if (!IsValidContainerName(container))
        {
            throw new InvalidStorageLocationException(
                location, $"'{container}' is not a valid container name (3-63 lowercase letters, digits and single hyphens, starting with a letter or digit)", null);
        }

        if (prefix.Length > 0)
        {
            string trimmed = prefix.TrimEnd('/');
            string? problem = trimmed.Length == 0 ? "it consists only of '/'" : ObjectKey.FindProblem(trimmed, isPrefix: false);
            if (problem is not null)
            {
                throw new InvalidStorageLocationException(location, $"the prefix '{prefix}' is not valid: {problem}", null);
            }

            prefix = trimmed + "/";
        }

        return (container, prefix);
    }

    private static bool IsValidContainerName(string name)
    {
        if (name is "$root" or "$web")
        {
            return true;
        }

        if (name.Length is < 3 or > 63 || name[0] == '-' || name[^1] == '-' || name.Contains("--", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (char c in name)
        {
            if (!(char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c == '-'))
            {
                return false;
            }
        }

        return true;
    }
}
