using System.Formats.Tar;
using KdData.PackedImages;
using KdData.Tests.Fixtures;

namespace KdData.Tests.PackedImages;

public sealed class TarImageArchiveTests
{
    private static readonly PackedReadOptions Options = new();

    [Fact]
    public async Task ReadAsync_TarWrittenBySystemTar_ImagesInOrderWithTheirClsLabelsWithoutSeeking()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "shard.tar");
        var names = await PackedSamples.WriteTarAsync(Path.Combine(temp.Path, "staging"), path, 0, 12);

        await using var stream = new ReadCountingStream(File.OpenRead(path), seekable: false);
        var members = await TarImageArchive.ReadAsync(stream, "shard.tar", Options).ToListAsync();

        Assert.Equal(names, members.Select(m => m.Name));
        for (var i = 0; i < 12; i++)
        {
            Assert.Equal(LabelerSamples.Image(i), members[i].Bytes);
            Assert.Equal(PackedSamples.LabelOf(i), members[i].Label);
        }

        // Front to back through a stream that cannot seek, up to the end-of-archive blocks (tar pads the file past them).
        Assert.InRange(stream.BytesRead, Enumerable.Range(0, 12).Sum(i => 512 + LabelerSamples.Image(i).Length), new FileInfo(path).Length);
    }

    [Fact]
    public async Task ReadAsync_LabelAfterImageAndJsonLabels_AreJoinedBySampleKey()
    {
        using var archive = new MemoryStream();
        using (var writer = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            Add(writer, "a/001.png", LabelerSamples.Image(0));
            Add(writer, "a/001.cls", "7"u8.ToArray());
            Add(writer, "a/002.json", """{"label": 3, "caption": "x.y"}"""u8.ToArray());
            Add(writer, "a/002.jpg.png", LabelerSamples.Image(1)); // extension "jpg.png": not an image extension
            Add(writer, "a/003.PNG", LabelerSamples.Image(2));
        }

        archive.Position = 0;
        var members = await TarImageArchive.ReadAsync(archive, "s.tar", Options).ToListAsync();

        Assert.Collection(
            members,
            m => Assert.Equal(("a/001.png", (int?)7, (string?)null), (m.Name, m.Label, m.ErrorReason)),
            m => Assert.Equal(("a/002", (int?)3, (string?)"no-image"), (m.Name, m.Label, m.ErrorReason)),
            m => Assert.Equal(("a/003.PNG", (int?)null, (string?)null), (m.Name, m.Label, m.ErrorReason)));
    }

    [Fact]
    public async Task ReadAsync_DoneAndTooLargeMembers_SkippedOrReportedWithoutBeingCopied()
    {
        using var archive = new MemoryStream();
        using (var writer = new TarWriter(archive, TarEntryFormat.Pax, leaveOpen: true))
        {
            Add(writer, "000.png", LabelerSamples.Image(0));
            Add(writer, "001.png", LabelerSamples.Image(1));
            Add(writer, "002.png", new byte[5000]);
        }

        archive.Position = 0;
        var members = await TarImageArchive.ReadAsync(archive, "s.tar", new PackedReadOptions { MaxMemberBytes = 4096 }, name => name == "000.png").ToListAsync();

        Assert.Equal(["001.png", "002.png"], members.Select(m => m.Name));
        Assert.Equal(LabelerSamples.Image(1), members[0].Bytes);
        Assert.Equal("too-large", members[1].ErrorReason);
        Assert.Null(members[1].Bytes);
    }

    [Fact]
    public async Task ReadAsync_NotATar_ThrowsNotTarNamingTheFile()
    {
        var bytes = new byte[4096];
        new Random(3).NextBytes(bytes);
        using var stream = new MemoryStream(bytes);

        var e = await Assert.ThrowsAsync<PackedFileException>(async () => await TarImageArchive.ReadAsync(stream, "shards/x.tar", Options).ToListAsync());

        Assert.Equal("not-tar", e.Reason);
        Assert.Contains("shards/x.tar", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadAsync_TruncatedTar_YieldsWhatPrecedesTheBreakThenThrowsBrokenTar()
    {
        using var temp = new TempDirectory();
        var path = Path.Combine(temp.Path, "shard.tar");
        await PackedSamples.WriteTarAsync(Path.Combine(temp.Path, "staging"), path, 0, 6, withLabels: false);
        var bytes = await File.ReadAllBytesAsync(path);
        // Cut inside the fourth member's data (GNU tar: a 512-byte header per member, data padded to 512).
        var cut = Enumerable.Range(0, 3).Sum(i => 512 + RoundUp(LabelerSamples.Image(i).Length)) + 512 + 100;
        using var stream = new MemoryStream(bytes[..cut]);

        var read = new List<PackedMember>();
        var e = await Assert.ThrowsAsync<PackedFileException>(async () =>
        {
            await foreach (var member in TarImageArchive.ReadAsync(stream, "shard.tar", Options))
            {
                read.Add(member);
            }
        });

        Assert.Equal("broken-tar", e.Reason);
        Assert.Equal(3, read.Count);
        Assert.Equal(LabelerSamples.Image(0), read[0].Bytes);
    }

    [Theory]
    [InlineData("000123.png", "000123", "png")]
    [InlineData("dir.v2/000123.seg.png", "dir.v2/000123", "seg.png")]
    [InlineData("noext", "noext", "")]
    public void SplitName_WebDatasetRule_KeyUpToTheFirstDotOfTheFileName(string name, string key, string extension) =>
        Assert.Equal((key, extension), TarImageArchive.SplitName(name));

    private static int RoundUp(int length) => (length + 511) / 512 * 512;

    private static void Add(TarWriter writer, string name, byte[] data)
    {
        var entry = new PaxTarEntry(TarEntryType.RegularFile, name) { DataStream = new MemoryStream(data) };
        writer.WriteEntry(entry);
    }
}
