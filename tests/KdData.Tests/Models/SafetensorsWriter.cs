using System.Buffers.Binary;
using System.Text;
using System.Text.Json;

namespace KdData.Tests.Models;

/// <summary>
/// Writes a safetensors file the way the reference Python library lays it out (sorted keys, header padded to
/// 8 bytes with spaces, little-endian data), independently of TorchSharp.PyBridge.
/// </summary>
internal static class SafetensorsWriter
{
    public static byte[] Write(IReadOnlyDictionary<string, (string DType, long[] Shape, byte[] Data)> tensors)
    {
        var header = new Dictionary<string, object>(StringComparer.Ordinal);
        long offset = 0;
        foreach (var (name, (dtype, shape, data)) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            header[name] = new { dtype, shape, data_offsets = new[] { offset, offset + data.Length } };
            offset += data.Length;
        }
        var json = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(header));
        var padded = (json.Length + 7) / 8 * 8;
        using var file = new MemoryStream();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)padded);
        file.Write(length);
        file.Write(json);
        for (var i = json.Length; i < padded; i++)
        {
            file.WriteByte((byte)' ');
        }
        foreach (var (_, (_, _, data)) in tensors.OrderBy(t => t.Key, StringComparer.Ordinal))
        {
            file.Write(data);
        }
        return file.ToArray();
    }

    public static byte[] Float32(long count, float value)
    {
        var data = new byte[count * 4];
        for (var i = 0L; i < count; i++)
        {
            BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan((int)(i * 4)), value);
        }
        return data;
    }

    public static byte[] Int64(long count, long value)
    {
        var data = new byte[count * 8];
        for (var i = 0L; i < count; i++)
        {
            BinaryPrimitives.WriteInt64LittleEndian(data.AsSpan((int)(i * 8)), value);
        }
        return data;
    }
}
