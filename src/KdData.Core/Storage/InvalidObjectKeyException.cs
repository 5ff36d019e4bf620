using System.Globalization;
using System.Text;

namespace KdData.Storage;

/// <summary>A key (or list prefix) from outside is not acceptable: it could escape the store root or is malformed.</summary>
public sealed class InvalidObjectKeyException : ObjectStoreException
{
    public InvalidObjectKeyException()
    {
    }

    public InvalidObjectKeyException(string message)
        : base(message)
    {
    }

    public InvalidObjectKeyException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public InvalidObjectKeyException(string key, string reason)
        : base($"Invalid object key '{Printable(key)}': {reason}.", key, null)
    {
        Reason = reason;
    }

    /// <summary>Why the key was rejected.</summary>
    public string? Reason { get; }

    /// <summary>Escapes control characters so the key stays readable in a one-line message.</summary>
    internal static string Printable(string key)
    {
        var builder = new StringBuilder(key.Length);
        foreach (char c in key)
        {
            if (char.IsControl(c))
            {
                builder.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            }
            else
            {
                builder.Append(c);
            }
        }

        return builder.ToString();
    }
}
