using System.Buffers.Binary;
using System.Text.Json;

namespace KdData.Tests.Models;

/// <summary>Reads a safetensors header independently of the code under test: 8-byte LE length, then JSON.</summary>
internal static class SafetensorsHeader
{
    public static Dictionary<string, long[]> ReadShapes(ReadOnlySpan<byte> file)
    {
        var length = BinaryPrimitives.ReadUInt64LittleEndian(file[..8]);
        Assert.InRange(length, 2UL, (ulong)file.Length - 8);
        using var json = JsonDocument.Parse(file.Slice(8, (int)length).ToArray());
        var shapes = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var entry in json.RootElement.EnumerateObject())
        {
            if (entry.Name == "__metadata__")
            {
                continue;
            }
            shapes[entry.Name] = [.. entry.Value.GetProperty("shape").EnumerateArray().Select(d => d.GetInt64())];
        }
        return shapes;
    }
}
