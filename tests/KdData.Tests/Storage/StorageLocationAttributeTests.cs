using System.ComponentModel.DataAnnotations;
using KdData.Hosting;
using KdData.Labeling;
using KdData.Storage;
using KdData.Tests.Fixtures;
using KdData.Training;

namespace KdData.Tests.Storage;

public sealed class StorageLocationAttributeTests
{
    private static List<ValidationResult> Validate(object options) => DataAnnotations.Validate(options);

    [Theory]
    [InlineData("file:samples/fashion-mnist/")]
    [InlineData("file:///tmp/data/")]
    [InlineData("/tmp/data/")]
    [InlineData("az://images/pool/")]
    [InlineData("http://127.0.0.1:10000/devstoreaccount1/images/pool/")]
    public void Check_LocationForms_Accepted(string location) => Assert.Null(StorageLocationAttribute.Check(location));

    [Theory]
    [InlineData("samples/fashion-mnist/")]
    [InlineData("s3://bucket/prefix/")]
    public void Check_BareRelativePathOrUnknownScheme_SaysWhy(string location)
    {
        var error = StorageLocationAttribute.Check(location);

        Assert.NotNull(error);
        Assert.Contains(location, error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TrainingDataWithBareRelativeDataset_NamesTheKey()
    {
        var results = Validate(new TrainingDataOptions { Dataset = "samples/fashion-mnist/" });

        var result = Assert.Single(results);
        Assert.StartsWith("Trainer:Data:Dataset: ", result.ErrorMessage, StringComparison.Ordinal);
        Assert.Equal([nameof(TrainingDataOptions.Dataset)], result.MemberNames);
    }

    [Fact]
    public void Validate_LabelingDefaults_Pass() => Assert.Empty(Validate(new LabelingOptions()));

    [Fact]
    public void Validate_LabelingWithBadInputAndOutput_NamesBothKeys()
    {
        var results = Validate(new LabelingOptions { Input = "pool/", Output = "labels/" });

        Assert.Contains(results, r => r.ErrorMessage!.StartsWith("Labeler:Input: ", StringComparison.Ordinal));
        Assert.Contains(results, r => r.ErrorMessage!.StartsWith("Labeler:Output: ", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_DistillWithBareRelativeDataset_ExitsTwoBeforeWritingAnything()
    {
        using var work = new TempDirectory();
        var output = Path.Combine(work.Path, "student");

        var code = await KdData.Trainer.TrainerCommandLine.RunAsync(["distill", "--dataset", "samples/fashion-mnist/", "--output", output], TextWriter.Null, TextWriter.Null);

        Assert.Equal(ExitCodes.InvalidConfiguration, code);
        Assert.False(Directory.Exists(output));
    }
}
