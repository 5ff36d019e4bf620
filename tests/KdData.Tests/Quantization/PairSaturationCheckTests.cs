using Google.Protobuf;
using KdData.Quantization;
using Onnx;

namespace KdData.Tests.Quantization;

/// <summary>
/// The check that finds weights able to overflow the int16 pair sum of x86 int8 kernels without VNNI. It reads the
/// written model only, so it gives the same answer on every CPU: the 8-bit writer fails it here too, on a machine whose
/// own kernels would compute that model correctly.
/// </summary>
public sealed class PairSaturationCheckTests
{
    [Fact]
    public void Worst_HandBuiltCodes_PairSumOfTheTwoLargestMagnitudesPerChannel()
    {
        // Channel 0: |127| + |-2| = 129 -> 255 * 129 = 32,895 > 32,767. Channel 1: 64 + |-64| = 128 -> 32,640 (fits).
        var codes = Int8Tensor("w", [2, 3], [127, -2, 1, 64, -64, 3]);

        var worst = PairSaturationCheck.Worst(codes);

        Assert.Equal(0, worst.Channel);
        Assert.Equal(32_895, worst.WorstPairSum);
        Assert.False(worst.Safe);
    }

    [Fact]
    public void Worst_SevenBitExtremes_Safe()
    {
        var worst = PairSaturationCheck.Worst(Int8Tensor("w", [1, 4], [64, -64, 64, -64]));

        Assert.Equal(255 * 128, worst.WorstPairSum);
        Assert.True(worst.Safe);
    }

    [Fact]
    public void Worst_FewerCodesThanShape_Throws() =>
        Assert.Throws<InvalidDataException>(() => PairSaturationCheck.Worst(Int8Tensor("w", [2, 3], [1, 2, 3])));

    [Theory]
    [InlineData(8, false)]
    [InlineData(7, true)]
    public async Task Analyze_SampleTeacherWrittenWithWeightBits_SafeOnlyWithSevenBits(int weightBits, bool safe)
    {
        var (_, plan, int8) = await Int8QuantizerTests.SampleTeacherInt8Async(weightBits);

        var report = PairSaturationCheck.Analyze(ModelProto.Parser.ParseFrom(int8.ToByteArray()));

        // Every Conv and the Gemm have an int8 weight behind a DequantizeLinear.
        Assert.Equal(plan.Layers.Count, report.Layers.Count);
        Assert.Equal(safe, report.Safe);
        Assert.Equal(weightBits, QdqModelWriter.WeightBitsOf(int8));
        if (safe)
        {
            Assert.InRange(report.WorstPairSum, 1, 255 * 128);
        }
        else
        {
            // Full 8-bit codes: every channel has a 127; the worst pair reaches far past the limit.
            Assert.All(report.Layers, l => Assert.False(l.Safe));
            Assert.InRange(report.WorstPairSum, PairSaturationCheck.PairLimit + 1, 255 * 254);
        }
    }

    private static TensorProto Int8Tensor(string name, long[] dims, sbyte[] codes)
    {
        var tensor = new TensorProto { Name = name, DataType = (int)TensorProto.Types.DataType.Int8, RawData = ByteString.CopyFrom((byte[])(Array)codes) };
        tensor.Dims.AddRange(dims);
        return tensor;
    }
}
