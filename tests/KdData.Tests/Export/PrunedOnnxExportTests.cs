using KdData.Export;
using KdData.Models;
using KdData.Pruning;
using KdData.Tests.Fixtures;

namespace KdData.Tests.Export;

/// <summary>
/// The parity check "for a pruned model": a model physically rebuilt smaller by <see cref="ChannelPruner"/>
/// (uneven channel counts, residual groups, depthwise groups) exports to ONNX with logits equal to TorchSharp's, also
/// after a round trip through its checkpoint (the record's channel list alone rebuilds it).
/// </summary>
[Collection(TorchGeneratorTestGroup.Name)]
public sealed class PrunedOnnxExportTests
{
    public static TheoryData<ModelSpec> PrunableFamilies() => new()
    {
        new ModelSpec { Name = "convnet", NumClasses = 10, InChannels = 1, Width = 8, Depth = 3 },
        new ModelSpec { Name = "wrn", NumClasses = 10, InChannels = 1, Depth = 10, WidenFactor = 2 },
        new ModelSpec { Name = "mobilenet_v2", NumClasses = 10, InChannels = 1, WidthMult = 0.25 },
    };

    [Theory]
    [MemberData(nameof(PrunableFamilies))]
    public async Task Export_PrunedModel_OnnxRuntimeLogitsEqualTorchSharp(ModelSpec spec)
    {
        var (pixels, _) = await ExportSamples.TestImagesAsync();
        using var full = ExportSamples.CreateWithRandomNorms(spec);
        full.eval();
        var layout = PruningLayouts.For(spec);
        var keep = ChannelPruner.Select(ChannelPruner.Score(full, layout, PruningCriterion.L1), PruningScope.Global, 0.4);
        var (pruned, prunedSpec) = ChannelPruner.Rebuild(full, layout, keep);
        using var prunedModel = pruned;
        prunedModel.eval();
        using var work = new TempDirectory();
        var record = await CheckpointSerializer.SaveAsync(prunedModel, new CheckpointRecord { Architecture = prunedSpec }, work.Path, "pruned");
        using var reloaded = await CheckpointSerializer.LoadAsync(record);
        reloaded.Model.eval();

        // Really pruned: fewer parameters than the full model, and the record carries the new channel counts.
        Assert.NotNull(prunedSpec.Channels);
        Assert.True(ModelComplexity.Parameters(prunedModel) < ModelComplexity.Parameters(full));
        Assert.Equal(prunedSpec.Channels, reloaded.Record.Architecture.Channels);
        foreach (var model in new[] { prunedModel, reloaded.Model })
        {
            using var session = new OnnxModelSession(OnnxExporter.ToBytes(OnnxExporter.Export(model, ExportSamples.OptionsFor(prunedSpec))), threads: 1);
            foreach (var batch in new[] { 5, 1 })
            {
                var expected = ExportSamples.TorchLogits(model, pixels, batch);
                var actual = session.Run(pixels, batch);
                Assert.Equal(batch * spec.NumClasses, actual.Length);
                Assert.InRange(ExportSamples.MaxAbsDifference(expected, actual), 0, 1e-4);
            }
        }
    }
}
