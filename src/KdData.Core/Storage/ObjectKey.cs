namespace KdData.Storage;

/// <summary>
/// Validation of keys and list prefixes. Keys come from outside (manifests, messages, config) and are
/// untrusted; the same rules apply to both backends so a key that works on Azure also works locally.
/// </summary>
internal static class ObjectKey
{
    /// <summary>Folder name the local store uses for temp, lock and lease files; reserved on every backend.</summary>
    public const string ReservedSegment = ".kddata";

    public const int MaxLength = 1024;

    public static void Validate(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        string? problem = FindProblem(key, isPrefix: false);
        if (problem is not null)
        {
            throw new InvalidObjectKeyException(key, problem);
        }
    }

    /// <summary>A list prefix: may be empty and may end with '/', otherwise the same rules as keys.</summary>
    public static void ValidatePrefix(string prefix)
    {
        ArgumentNullException.ThrowIfNull(prefix);
        string? problem = FindProblem(prefix, isPrefix: true);
        if (problem is not null)
        {
            throw new InvalidObjectKeyException(prefix, problem);
        }
    }

    public static string? FindProblem(string key, bool isPrefix)
    {
        if (key.Length == 0)
        {
            return isPrefix ? null : "it is empty";
        }

        if (key.Length > MaxLength)
        {
            return $"it is longer than {MaxLength} characters";
        }

        foreach (char c in key)
        {
            if (char.IsControl(c))
            {
                return "it contains a NUL or control character";
            }

            if (c == '\\')
            {
                return "it contains a backslash (use '/' as separator)";
            }
        }

        if (key[0] == '/')
        {
            return "it is absolute (starts with '/'); keys are relative to the store root";
        }

        if (key.Length >= 2 && key[1] == ':' && char.IsAsciiLetter(key[0]))
        {
            return "it looks like an absolute Windows path (drive letter)";
        }

        string body = isPrefix && key.EndsWith('/') ? key[..^1] : key;
        if (body.EndsWith('/'))
        {
            return "it ends with '/' or contains an empty segment";
        }

        foreach (string segment in body.Split('/'))
        {
            if (segment.Length == 0)
            {
                return "it contains an empty segment ('//') or ends with '/'";
            }

            if (segment is "." or "..")
            {
                return "it contains a '.' or '..' segment";
            }

            if (string.Equals(segment, ReservedSegment, StringComparison.OrdinalIgnoreCase))
            {
                return $"the segment name '{ReservedSegment}' is reserved for the store's own files";
            }
        }

        return null;
    }
}
