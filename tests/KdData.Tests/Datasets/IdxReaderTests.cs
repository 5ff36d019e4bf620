using System.Buffers.Binary;
using System.IO.Compression;
using KdData.Datasets;

namespace KdData.Tests.Datasets;

public sealed class IdxReaderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("kd-idx-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    internal static byte[] MakeIdx(int[] dims, byte[] data)
    {
        var bytes = new byte[4 + (4 * dims.Length) + data.Length];
        bytes[2] = 0x08;
        bytes[3] = (byte)dims.Length;
        for (var i = 0; i < dims.Length; i++)
        {
            BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + (4 * i)), dims[i]);
        }

        data.CopyTo(bytes, 4 + (4 * dims.Length));
        return bytes;
    }

    [Fact]
    public async Task ReadFileAsync_GzippedImages_ReturnsExactPixels()
    {
        var pixels = Enumerable.Range(0, 3 * 4 * 5).Select(i => (byte)(i * 7 % 256)).ToArray();
        var path = Path.Combine(_dir, "images-idx3-ubyte.gz");
        using (var file = File.Create(path))
        using (var gz = new GZipStream(file, CompressionLevel.Fastest))
        {
            gz.Write(MakeIdx([3, 4, 5], pixels));
        }

        var array = await IdxReader.ReadFileAsync(path);

        Assert.Equal([3, 4, 5], array.Dimensions);
        Assert.Equal(20, array.ItemSize);
        Assert.Equal(pixels.AsSpan(40, 20).ToArray(), array.Item(2).ToArray());
    }

    [Fact]
    public async Task ReadFileAsync_PlainLabels_ReturnsLabels()
    {
        var path = Path.Combine(_dir, "labels-idx1-ubyte");
        await File.WriteAllBytesAsync(path, MakeIdx([4], [9, 0, 3, 3]));

        var array = await IdxReader.ReadFileAsync(path);

        Assert.Equal(4, array.Count);
        Assert.Equal(new byte[] { 9, 0, 3, 3 }, array.Data.ToArray());
    }

    [Fact]
    public async Task ReadFileAsync_Truncated_ThrowsNamingTheFile()
    {
        var path = Path.Combine(_dir, "short-idx");
        var full = MakeIdx([10, 2, 2], new byte[40]);
        await File.WriteAllBytesAsync(path, full.AsSpan(0, full.Length - 5).ToArray());

        var error = await Assert.ThrowsAsync<IdxFormatException>(() => IdxReader.ReadFileAsync(path));
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("truncated", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadFileAsync_WrongElementType_Throws()
    {
        var path = Path.Combine(_dir, "float-idx");
        var bytes = MakeIdx([1], [1]);
        bytes[2] = 0x0D; // float
        await File.WriteAllBytesAsync(path, bytes);

        var error = await Assert.ThrowsAsync<IdxFormatException>(() => IdxReader.ReadFileAsync(path));
        Assert.Contains("0x0d", error.Message, StringComparison.Ordinal);
    }
}
