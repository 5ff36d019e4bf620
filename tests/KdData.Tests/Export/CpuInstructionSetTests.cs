using KdData.Export;

namespace KdData.Tests.Export;

public sealed class CpuInstructionSetTests
{
    [Theory]
    // AMD Zen 3 (EPYC 7xx3): AVX2 and FMA, no AVX-512, no VNNI: the int16 pair sum saturates.
    [InlineData("fpu sse4_2 avx fma avx2 bmi2", true, "AVX2 (no VNNI)", true)]
    // Intel Skylake-SP: AVX-512 without VNNI still uses vpmaddubsw.
    [InlineData("avx2 avx512f avx512bw avx512vl", true, "AVX-512 (no VNNI)", true)]
    // AMD Zen 4 / Intel Ice Lake: AVX-512 VNNI accumulates in int32.
    [InlineData("avx2 avx512f avx512_vnni avx_vnni", true, "AVX-512 VNNI", false)]
    // Intel Alder Lake: AVX-VNNI on 256-bit registers.
    [InlineData("avx2 avx_vnni", true, "AVX-VNNI (AVX2)", false)]
    // Intel Sapphire Rapids: AMX tiles.
    [InlineData("avx2 avx512f avx512_vnni amx_tile amx_int8", true, "AMX", false)]
    // Pre-AVX2 x86.
    [InlineData("sse4_2 avx", true, "x86-64 below AVX2", true)]
    // ARM64 (Linux names): NEON with and without the dot product.
    [InlineData("fp asimd asimddp", false, "NEON dot product", false)]
    [InlineData("fp asimd", false, "NEON", false)]
    public void FromFeatures_CpuinfoFlags_LevelAndSaturation(string flags, bool x86, string level, bool saturates)
    {
        var cpu = CpuInstructionSet.FromFeatures(flags.Split(' '), x86);

        Assert.Equal(level, cpu.Level);
        Assert.Equal(saturates, cpu.Int8PairsSaturate);
        Assert.Contains(saturates ? "saturation" : "int32", cpu.Int8Accumulation, StringComparison.Ordinal);
    }

    [Fact]
    public void Current_LinuxX64_AgreesWithProcCpuinfoFlags()
    {
        // CPUID (what .NET and ONNX Runtime read) and the kernel's flag list describe the same CPU. The project's
        // machines (and its native TorchSharp build) are linux-x64.
        var flags = File.ReadLines("/proc/cpuinfo").First(l => l.StartsWith("flags", StringComparison.Ordinal)).Split(':', 2)[1].Split(' ', StringSplitOptions.RemoveEmptyEntries);

        var expected = CpuInstructionSet.FromFeatures(flags, x86: true);

        Assert.Equal(expected.Level, CpuInstructionSet.Current.Level);
        Assert.Equal(expected.Int8PairsSaturate, CpuInstructionSet.Current.Int8PairsSaturate);
        Assert.False(string.IsNullOrWhiteSpace(CpuInstructionSet.Current.Model));
    }
}
