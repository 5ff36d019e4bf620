using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace KdData.Export;

/// <summary>
/// The instruction-set level of the CPU a figure was measured on, as it matters for int8 inference: whether 8-bit
/// dot products accumulate in 32 bits (VNNI, AMX, ARM's dot product) or go through a 16-bit intermediate that
/// saturates (x86 without VNNI: <c>vpmaddubsw</c> adds pairs of u8 x s8 products into int16 with saturation, which is
/// what ONNX Runtime's U8S8 kernels use on AVX2 and plain AVX-512). Read from CPUID through .NET's hardware
/// intrinsics, the same source ONNX Runtime's MLAS dispatches on, so an emulated CPU reports what it emulates.
/// Members with a default are settable rather than init-only so that JSON missing them reads the default:
/// System.Text.Json's source generator does not run initializers of init-only properties (dotnet/runtime#84484).
/// </summary>
public sealed record CpuInstructionSet
{
    /// <summary>The widest level that matters for int8 kernels, e.g. <c>AVX-512 VNNI</c>, <c>AVX2</c>, <c>NEON dot product</c>.</summary>
    public required string Level { get; init; }

    /// <summary>The features found, in a fixed order (e.g. <c>avx2</c>, <c>avx512f</c>, <c>avx512_vnni</c>, <c>avx_vnni</c>, <c>amx_int8</c>).</summary>
    public required IReadOnlyList<string> Features { get; init; }

    /// <summary>
    /// True when the CPU's u8 x s8 dot product goes through a saturating 16-bit pair sum (x86-64 without VNNI or AMX).
    /// An int8 model with full 8-bit weights can then compute wrong results; 7-bit weights cannot overflow it.
    /// </summary>
    public required bool Int8PairsSaturate { get; init; }

    /// <summary>How 8-bit products accumulate on this CPU, in words for reports and the model card.</summary>
    public string Int8Accumulation => Int8PairsSaturate
        ? "u8 x s8 pairs summed in int16 with saturation (vpmaddubsw; no VNNI)"
        : Features.Contains(AmxFeature) ? "int32 (AMX tiles)"
        : Features.Contains(Avx512VnniFeature) || Features.Contains(AvxVnniFeature) ? "int32 (VNNI vpdpbusd)"
        : Features.Contains(ArmDotFeature) ? "int32 (ARM sdot/udot)"
        : "int32 (widened to 16-bit before multiplying)";

    /// <summary>CPU model name where the OS tells it (<c>/proc/cpuinfo</c>), else the process architecture.</summary>
    public string Model { get; set; } = string.Empty;

    internal const string Avx2Feature = "avx2";
    internal const string Avx512Feature = "avx512f";
    internal const string Avx512VnniFeature = "avx512_vnni";
    internal const string AvxVnniFeature = "avx_vnni";
    internal const string AmxFeature = "amx_int8";
    internal const string NeonFeature = "neon";
    internal const string ArmDotFeature = "asimddp";

    private static readonly Lazy<CpuInstructionSet> Detected = new(Detect);

    /// <summary>This process's CPU (detected once).</summary>
    public static CpuInstructionSet Current => Detected.Value;

    /// <summary>
    /// Classifies a set of feature names (the names Linux's <c>/proc/cpuinfo</c> flags use: <c>avx2</c>, <c>avx512f</c>,
    /// <c>avx512_vnni</c>, <c>avx_vnni</c>, <c>amx_int8</c>; on ARM64 <c>neon</c>/<c>asimd</c> and <c>asimddp</c>).
    /// </summary>
    public static CpuInstructionSet FromFeatures(IEnumerable<string> features, bool x86, string model = "")
    {
        ArgumentNullException.ThrowIfNull(features);
        var set = features.Select(f => f.Trim().ToLowerInvariant()).ToHashSet(StringComparer.Ordinal);
        if (set.Contains("asimd"))
        {
            set.Add(NeonFeature);
        }
        string[] order = [Avx2Feature, Avx512Feature, Avx512VnniFeature, AvxVnniFeature, AmxFeature, NeonFeature, ArmDotFeature];
        var found = order.Where(set.Contains).ToList();
        string level;
        bool saturate;
        if (x86)
        {
            var vnni = set.Contains(Avx512VnniFeature) || set.Contains(AvxVnniFeature);
            level = set.Contains(AmxFeature) ? "AMX"
                : set.Contains(Avx512VnniFeature) ? "AVX-512 VNNI"
                : set.Contains(AvxVnniFeature) ? "AVX-VNNI (AVX2)"
                : set.Contains(Avx512Feature) ? "AVX-512 (no VNNI)"
                : set.Contains(Avx2Feature) ? "AVX2 (no VNNI)"
                : "x86-64 below AVX2";
            saturate = !vnni && !set.Contains(AmxFeature);
        }
        else
        {
            level = set.Contains(ArmDotFeature) ? "NEON dot product" : set.Contains(NeonFeature) ? "NEON" : RuntimeInformation.ProcessArchitecture.ToString();
            saturate = false;
        }
        return new CpuInstructionSet { Level = level, Features = found, Int8PairsSaturate = saturate, Model = model };
    }

    public override string ToString() => $"{Level}; int8 accumulation: {Int8Accumulation}";

    private static CpuInstructionSet Detect()
    {
        var features = new List<string>();
        var x86 = RuntimeInformation.ProcessArchitecture is Architecture.X64 or Architecture.X86;
        if (x86)
        {
            if (Avx2.IsSupported)
            {
                features.Add(Avx2Feature);
            }
            if (Avx512F.IsSupported)
            {
                features.Add(Avx512Feature);
            }
            if (AvxVnni.IsSupported)
            {
                features.Add(AvxVnniFeature);
            }
            if (X86Base.IsSupported)
            {
                // .NET has no class for AVX-512 VNNI or AMX: CPUID leaf 7 tells (ECX bit 11; EDX bits 24 tile, 25 int8).
                var (_, _, ecx, edx) = X86Base.CpuId(7, 0);
                if (Avx512F.IsSupported && (ecx & (1 << 11)) != 0)
                {
                    features.Add(Avx512VnniFeature);
                }
                if ((edx & (1 << 25)) != 0 && (edx & (1 << 24)) != 0)
                {
                    features.Add(AmxFeature);
                }
            }
        }
        else if (AdvSimd.IsSupported)
        {
            features.Add(NeonFeature);
            if (Dp.IsSupported)
            {
                features.Add(ArmDotFeature);
            }
        }
        return FromFeatures(features, x86, CpuModel());
    }

    private static string CpuModel()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                var line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null)
                {
                    return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Fall through to the architecture.
        }
        return RuntimeInformation.ProcessArchitecture.ToString();
    }
}
