using KdData.PackedImages;

namespace KdData.Tests.PackedImages;

/// <summary>Member keys: <see cref="PackedFormats.MemberKey"/> and its inverse, <see cref="PackedFormats.TrySplitMemberKey"/>.</summary>
public sealed class PackedFormatsTests
{
    [Theory]
    [InlineData("train/part-00000.parquet#17", "train/part-00000.parquet", "17", InputFormat.Parquet)]
    [InlineData("unlabeled/part-00003.tar#00123.png", "unlabeled/part-00003.tar", "00123.png", InputFormat.Tar)]
    [InlineData("a#b/shard.TAR#dir/x#1.png", "a#b/shard.TAR", "dir/x#1.png", InputFormat.Tar)]
    [InlineData("part.parquet#", "part.parquet#", "", InputFormat.Loose)]
    [InlineData("train/00017.png", "train/00017.png", "", InputFormat.Loose)]
    [InlineData("odd#name.png", "odd#name.png", "", InputFormat.Loose)]
    [InlineData("shards.parquet/x.png", "shards.parquet/x.png", "", InputFormat.Loose)]
    public void TrySplitMemberKey_KeyForms_SplitAtTheFirstSeparatorAfterAPackedFile(string key, string objectKey, string member, InputFormat format)
    {
        var packed = PackedFormats.TrySplitMemberKey(key, out var shard, out var name, out var resolved);

        Assert.Equal(format != InputFormat.Loose, packed);
        Assert.Equal((objectKey, member, format), (shard, name, resolved));
        if (packed)
        {
            Assert.Equal(key, PackedFormats.MemberKey(shard, name));
        }
    }
}
