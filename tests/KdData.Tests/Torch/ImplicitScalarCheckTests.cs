using KdData.Objectives;
using TorchSharp;
using static TorchSharp.torch;

namespace KdData.Tests.Torch;

/// <summary>
/// No new unheld Scalars in KdData.Core and the Trainer (<see cref="ImplicitScalarCheck"/>): every number a training step hands
/// libtorch goes through <see cref="HeldScalars"/> or an explicit Scalar held by <c>using</c> or by its owner. Code that
/// never runs inside a training step may keep TorchSharp's conversions when it is listed in <see cref="Allowed"/> with
/// its reason; the list may not hold an entry that no longer has a finding.
/// </summary>
public sealed class ImplicitScalarCheckTests
{
    /// <summary>Methods allowed to pass unheld Scalars (all their findings), and why.</summary>
    private static readonly Dictionary<string, string> Allowed = new(StringComparer.Ordinal)
    {
        ["KdData.Models.ModelZoo.CreateResNet"] =
            "TorchVision's resnet builders initialise their weights with implicit Scalars inside TorchVision: once, when the model is built, before any step.",
        ["KdData.Export.OnnxGraphTracer.EmitConv"] = "ONNX export: runs once on a finished model, after training, never in a training step.",
        ["KdData.Export.OnnxGraphTracer.BatchNormAffine"] = "ONNX export: runs once on a finished model, after training, never in a training step.",
        ["KdData.Pruning.ChannelPruner.Score"] = "Pruning: scores the channels once on a trained model, before fine-tuning starts.",
    };

    private static IEnumerable<Type> Scanned =>
        typeof(HeldScalars).Assembly.GetTypes().Concat(typeof(KdData.Trainer.QuantizeJob).Assembly.GetTypes());

    [Fact]
    public void Scan_CoreAndTrainer_FindsNoUnheldScalarOutsideTheAllowlist()
    {
        var findings = ImplicitScalarCheck.Scan(Scanned)
            .Where(f => !Allowed.ContainsKey(f.Method))
            .Select(f => $"{f.Method}: {f.Call}")
            .Distinct()
            .ToList();
        Assert.True(findings.Count == 0,
            "TorchSharp gets a Scalar nobody holds (the GC may free it while libtorch reads it; docs/operations.md, \"TorchSharp Scalars and the GC\"). "
            + "Use HeldScalars (or an explicit Scalar held by using), or allowlist code that never runs in a training step, with the reason:"
            + Environment.NewLine + string.Join(Environment.NewLine, findings));
    }

    [Fact]
    public void Allowlist_EveryEntry_StillHasAFinding()
    {
        var found = ImplicitScalarCheck.Scan(Scanned).Select(f => f.Method).ToHashSet(StringComparer.Ordinal);
        var stale = Allowed.Keys.Where(k => !found.Contains(k)).ToList();
        Assert.True(stale.Count == 0, "Allowlisted but no longer found (remove the entries): " + string.Join(", ", stale));
    }

    [Fact]
    public void Scan_KnownPatterns_FindsEachUnheldScalarAndNoHeldOne()
    {
        var findings = ImplicitScalarCheck.Scan([typeof(Unheld), typeof(Held)]);
        var prefix = typeof(Unheld).FullName + ".";
        Assert.Equal(
            ["Add", "AddNumber", "Lambda", "Literal", "Operator", "Pow", "Variable"],
            findings.Select(f => f.Method).Distinct().Order(StringComparer.Ordinal).Select(m => m.StartsWith(prefix, StringComparison.Ordinal) ? m[prefix.Length..] : m));
        Assert.Contains(findings, f => f.Method == prefix + "Add" && f.Call.StartsWith("Tensor.op_Addition(Tensor, Tensor)", StringComparison.Ordinal));
        Assert.Contains(findings, f => f.Method == prefix + "Literal" && f.Call == "Scalar.op_Implicit(Double): implicit Scalar from Double");
    }

    /// <summary>Each method hands TorchSharp one unheld Scalar.</summary>
    internal static class Unheld
    {
        internal static Tensor Literal(Tensor t) => t.mul(0.5);

        internal static Tensor Variable(Tensor t, double temperature) => t.div(temperature);

        internal static Tensor Operator(Tensor t) => 2 * t;

        internal static Tensor Pow(Tensor t) => t.pow(2);

        // No number in sight: TorchSharp's a + b passes alpha = 1 as an implicit Scalar.
        internal static Tensor Add(Tensor a, Tensor b) => a + b;

        internal static Tensor AddNumber(Tensor t) => t.add(HeldScalars.One);

        internal static IEnumerable<Tensor> Lambda(IEnumerable<Tensor> tensors) => tensors.Select(t => t.clamp_min(1e-12));
    }

    /// <summary>None of these is a finding.</summary>
    internal static class Held
    {
        internal static Tensor Helper(Tensor t) => HeldScalars.Add(HeldScalars.Mul(t, 0.5), t);

        internal static Tensor Explicit(Tensor t)
        {
            using var half = 0.5.ToScalar();
            return t.mul(half);
        }

        internal static Tensor TensorOperands(Tensor a, Tensor b) => (a - b) * (a / b);

        // The number becomes a 0-d Tensor, which the step's dispose scope holds: not a Scalar.
        internal static Tensor Where(Tensor mask, Tensor t) => where(mask, t, 0.0);
    }
}
