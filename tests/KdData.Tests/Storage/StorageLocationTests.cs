using KdData.Storage;

namespace KdData.Tests.Storage;

public sealed class StorageLocationTests
{
    private static readonly string BaseDirectory = Path.Combine(Path.GetTempPath(), "kddata-base");

    [Fact]
    public void Parse_RelativeFileLocation_ResolvesAgainstBaseDirectory()
    {
        StorageLocation location = StorageLocation.Parse("file:samples/x/", BaseDirectory);

        Assert.Equal(StorageLocationKind.LocalFolder, location.Kind);
        Assert.Equal(Path.Combine(BaseDirectory, "samples", "x") + Path.DirectorySeparatorChar, location.LocalPath);
    }

    [Fact]
    public void Parse_RelativeFileLocationWithoutTrailingSlash_IsStillAFolder()
    {
        StorageLocation location = StorageLocation.Parse("file:samples", BaseDirectory);

        Assert.Equal(Path.Combine(BaseDirectory, "samples") + Path.DirectorySeparatorChar, location.LocalPath);
    }

    [Fact]
    public void Parse_FileUri_UsesAbsolutePath()
    {
        string dir = Path.Combine(Path.GetTempPath(), "abs dir");
        string uri = new Uri(dir).AbsoluteUri + "/";

        StorageLocation location = StorageLocation.Parse(uri, BaseDirectory);

        Assert.Equal(dir + Path.DirectorySeparatorChar, location.LocalPath);
    }

    [Fact]
    public void Parse_PlainAbsolutePath_IsLocalFolder()
    {
        string dir = Path.Combine(Path.GetTempPath(), "plain");

        StorageLocation location = StorageLocation.Parse(dir, BaseDirectory);

        Assert.Equal(StorageLocationKind.LocalFolder, location.Kind);
        Assert.Equal(dir + Path.DirectorySeparatorChar, location.LocalPath);
    }

    [Fact]
    public void Parse_AzScheme_TakesContainerAndPrefixButNoAccount()
    {
        StorageLocation location = StorageLocation.Parse("az://images/unlabeled/2024", BaseDirectory);

        Assert.Equal(StorageLocationKind.AzureBlob, location.Kind);
        Assert.Equal("images", location.ContainerName);
        Assert.Equal("unlabeled/2024/", location.Prefix);
        Assert.Null(location.AccountName);
        Assert.Null(location.ServiceUri);
        Assert.Equal("az://images/unlabeled/2024/", location.ToString());
    }

    [Fact]
    public void Parse_AzContainerOnly_HasEmptyPrefix()
    {
        StorageLocation location = StorageLocation.Parse("az://images", BaseDirectory);

        Assert.Equal("images", location.ContainerName);
        Assert.Equal(string.Empty, location.Prefix);
    }

    [Fact]
    public void Parse_AccountUrl_TakesAccountFromHost()
    {
        StorageLocation location = StorageLocation.Parse("https://myacct.blob.core.windows.net/shards/run-1/", BaseDirectory);

        Assert.Equal("myacct", location.AccountName);
        Assert.Equal(new Uri("https://myacct.blob.core.windows.net/"), location.ServiceUri);
        Assert.Equal("shards", location.ContainerName);
        Assert.Equal("run-1/", location.Prefix);
        Assert.Null(location.SasToken);
    }

    [Fact]
    public void Parse_AzuriteUrl_IsPathStyle()
    {
        StorageLocation location = StorageLocation.Parse("http://127.0.0.1:10000/devstoreaccount1/container/prefix", BaseDirectory);

        Assert.Equal("devstoreaccount1", location.AccountName);
        Assert.Equal(new Uri("http://127.0.0.1:10000/devstoreaccount1"), location.ServiceUri);
        Assert.Equal("container", location.ContainerName);
        Assert.Equal("prefix/", location.Prefix);
    }

    [Fact]
    public void Parse_SasUrl_KeepsTokenButNeverPrintsIt()
    {
        const string Signature = "c2VjcmV0LXNpZ25hdHVyZQ%3D%3D";
        StorageLocation location = StorageLocation.Parse(
            $"https://acct.blob.core.windows.net/data/p?sv=2024-08-04&sp=rl&sig={Signature}", BaseDirectory);

        Assert.NotNull(location.SasToken);
        Assert.Contains(Signature, location.SasToken, StringComparison.Ordinal);
        Assert.DoesNotContain(Signature, location.ToString(), StringComparison.Ordinal);
        Assert.Equal("https://acct.blob.core.windows.net/data/p/", location.ToString());
    }

    [Theory]
    [InlineData("relative/path")]
    [InlineData("ftp://host/x")]
    [InlineData("az://")]
    [InlineData("az://Bad_Container/x")]
    [InlineData("az://ab/x")]
    [InlineData("az://container/../escape")]
    [InlineData("az://container//double")]
    [InlineData("https://acct.blob.core.windows.net/")]
    [InlineData("http://127.0.0.1:10000/")]
    [InlineData("file:")]
    [InlineData("file://remotehost/share/")]
    [InlineData("   ")]
    public void Parse_UnsupportedOrMalformed_ThrowsNamingTheLocation(string text)
    {
        var ex = Assert.Throws<InvalidStorageLocationException>(() => StorageLocation.Parse(text, BaseDirectory));

        Assert.Contains($"'{text}'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_ConnectionStringByMistake_DoesNotEchoTheKey()
    {
        const string Key = "c2VjcmV0a2V5c2VjcmV0a2V5";
        string text = $"DefaultEndpointsProtocol=https;AccountName=acct;AccountKey={Key};EndpointSuffix=core.windows.net";

        var ex = Assert.Throws<InvalidStorageLocationException>(() => StorageLocation.Parse(text, BaseDirectory));

        Assert.DoesNotContain(Key, ex.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public void Parse_BadSasUrl_DoesNotEchoTheSignature()
    {
        const string Signature = "c2VjcmV0LXNpZ25hdHVyZQ";

        var ex = Assert.Throws<InvalidStorageLocationException>(
            () => StorageLocation.Parse($"https://acct.blob.core.windows.net/Bad_Name/?sig={Signature}", BaseDirectory));

        Assert.DoesNotContain(Signature, ex.ToString(), StringComparison.Ordinal);
        Assert.Contains("Bad_Name", ex.Message, StringComparison.Ordinal);
    }
}
