namespace KdData.Hosting;

/// <summary>
/// The command-line switches of the running command and the configuration keys they set (<c>--epochs</c> sets
/// <c>Trainer:Distill:Epochs</c>), so a message about a key can name the switch the user may have typed too:
/// <c>Trainer:Distill:Epochs (--epochs) must be between 1 and 100000; got 0</c>. Registered as a singleton by the
/// program that has switches; without one, messages name the key alone.
/// </summary>
public sealed class SettingSwitches
{
    private readonly Dictionary<string, string> _switchByKey = new(StringComparer.OrdinalIgnoreCase);

    /// <param name="switchToKey">Each switch (<c>--epochs</c>) and the key it sets. A list key's first entry
    /// (<c>Trainer:Distill:Shards:Locations:0</c>) also stands for the list.</param>
    public SettingSwitches(IEnumerable<KeyValuePair<string, string>> switchToKey)
    {
        ArgumentNullException.ThrowIfNull(switchToKey);
        foreach (var (name, key) in switchToKey)
        {
            _switchByKey.TryAdd(key, name);
            if (key.EndsWith(":0", StringComparison.Ordinal))
            {
                _switchByKey.TryAdd(key[..^2], name);
            }
        }
    }

    /// <summary>No switches: messages name the key alone.</summary>
    public static SettingSwitches None { get; } = new([]);

    /// <summary>The switch that sets <paramref name="key"/>, or null.</summary>
    public string? SwitchFor(string key) => _switchByKey.GetValueOrDefault(key);

    /// <summary>The key as the user would write it, with its switch where there is one: <c>Trainer:Distill:Epochs (--epochs)</c>.</summary>
    public string Label(string key) => SwitchFor(key) is { } name ? $"{key} ({name})" : key;

    /// <summary>
    /// <paramref name="message"/> with the switch put after the first mention of every key that has one (unless the
    /// message already gives it), e.g. <c>Trainer:Quantize:Method must be ...</c> becomes <c>Trainer:Quantize:Method (--method) must be ...</c>.
    /// </summary>
    public string NameSwitches(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        foreach (var (key, name) in _switchByKey)
        {
            var at = FindKey(message, key);
            if (at < 0)
            {
                continue;
            }

            var end = at + key.Length;
            if (!message.AsSpan(end).StartsWith(" (", StringComparison.Ordinal))
            {
                message = $"{message[..end]} ({name}){message[end..]}";
            }
        }

        return message;
    }

    /// <summary>
    /// Where <paramref name="key"/> is mentioned as a whole key in <paramref name="text"/>, or -1: not as part of a
    /// longer key (<c>Trainer:Distill:Shards:ClassCap</c> is not in <c>Trainer:Distill:Shards:ClassCaps:x</c>).
    /// </summary>
    public static int FindKey(string text, string key)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentException.ThrowIfNullOrEmpty(key);
        for (var at = text.IndexOf(key, StringComparison.OrdinalIgnoreCase); at >= 0; at = text.IndexOf(key, at + 1, StringComparison.OrdinalIgnoreCase))
        {
            var end = at + key.Length;
            var before = at == 0 || !IsKeyChar(text[at - 1]);
            var after = end == text.Length || (!IsNameChar(text[end]) && !(text[end] == ':' && end + 1 < text.Length && IsNameChar(text[end + 1])));
            if (before && after)
            {
                return at;
            }
        }

        return -1;
    }

    private static bool IsNameChar(char c) => char.IsLetterOrDigit(c) || c == '_';

    private static bool IsKeyChar(char c) => IsNameChar(c) || c == ':';
}
