using KdData.Objectives;
using static TorchSharp.torch;

namespace KdData.Tests.Objectives;

/// <summary>The representation-KD losses against values computed by hand on tiny tensors.</summary>
public sealed class RepresentationLossTests
{
    private static Tensor Map(float[] values, long c, long h, long w) => tensor(values, [1, c, h, w]);

    [Fact]
    public void HintCompute_SetAdapter_IsMeanSquaredErrorOfAdaptedStudent()
    {
        using var scope = NewDisposeScope();
        using var hint = new HintLoss(1, 1);
        using (no_grad())
        {
            hint.Adapter.weight!.fill_(2.0);
            hint.Adapter.bias!.fill_(0.5);
        }
        // r(F_s) = 2 * [1, 2, 3, 4] + 0.5 = [2.5, 4.5, 6.5, 8.5]; F_t = [3, 4, 6, 9]; differences +-0.5 -> mean square 0.25.
        var loss = hint.Compute(Map([1, 2, 3, 4], 1, 2, 2), Map([3, 4, 6, 9], 1, 2, 2));

        Assert.Equal(0.25, loss.item<float>(), 6);
    }

    [Fact]
    public void HintCompute_LargerStudentMap_IsAveragePooledToTeacherSize()
    {
        using var scope = NewDisposeScope();
        using var hint = new HintLoss(2, 1);
        using (no_grad())
        {
            hint.Adapter.weight!.copy_(tensor(new float[] { 1, -1 }, [1, 2, 1, 1]));
            hint.Adapter.bias!.fill_(0);
        }
        // Channel 0 [1, 2, 3, 4] minus channel 1 [0, 0, 0, 2] = [1, 2, 3, 2]; pooled to 1x1: 2; teacher 3 -> (2 - 3)^2 = 1.
        var loss = hint.Compute(Map([1, 2, 3, 4, 0, 0, 0, 2], 2, 2, 2), Map([3], 1, 1, 1));

        Assert.Equal(1.0, loss.item<float>(), 6);
    }

    [Fact]
    public void AttentionTransferCompute_OnePair_IsHalfBetaTimesMeanSquaredMapDifference()
    {
        using var scope = NewDisposeScope();
        // Student (2 channels, 1x2): squares [1, 0] and [1, 4] -> channel mean [1, 2] -> a_s = [1, 2] / sqrt 5.
        // Teacher (1 channel, 1x2): squares [4, 0] -> a_t = [1, 0].
        // mean_k (a_s - a_t)^2 = ((1/sqrt5 - 1)^2 + 4/5) / 2 = 1 - 1/sqrt5; times beta / 2 = 500.
        var student = Map([1, 0, 1, 2], 2, 1, 2);
        var teacher = Map([2, 0], 1, 1, 2);

        var loss = AttentionTransferLoss.Compute([(student, teacher)], beta: 1000);
        var map = AttentionTransferLoss.AttentionMap(student).data<float>().ToArray();

        Assert.Equal(500 * (1 - (1 / Math.Sqrt(5))), loss.item<float>(), 3);
        Assert.Equal(1 / Math.Sqrt(5), map[0], 6);
        Assert.Equal(2 / Math.Sqrt(5), map[1], 6);
    }

    [Fact]
    public void AttentionTransferCompute_TwoPairs_SumsTheirTerms()
    {
        using var scope = NewDisposeScope();
        var a = Map([1, 0, 1, 2], 2, 1, 2);
        var b = Map([2, 0], 1, 1, 2);
        var c = Map([0, 3], 1, 1, 2);

        var both = AttentionTransferLoss.Compute([(a, b), (a, c)], beta: 2).item<float>();
        var first = AttentionTransferLoss.Compute([(a, b)], beta: 2).item<float>();
        var second = AttentionTransferLoss.Compute([(a, c)], beta: 2).item<float>();

        // (a, c): a_t = [0, 1]; ((1/sqrt5)^2 + (2/sqrt5 - 1)^2) / 2 = 1 - 2/sqrt5 (beta / 2 = 1).
        Assert.Equal(1 - (2 / Math.Sqrt(5)), second, 5);
        Assert.Equal(first + second, both, 5);
    }

    [Fact]
    public void RkdDistance_ThreePoints_MatchesHandComputedHuberOfNormalisedDistances()
    {
        using var scope = NewDisposeScope();
        double[][] s = [[0, 0], [1, 0], [0, 1]];
        double[][] t = [[0], [1], [3]];

        var loss = RelationalKdLoss.Distance(ToTensor(s), ToTensor(t)).item<float>();

        Assert.Equal(HandDistance(s, t), loss, 5);
        // Sanity of the hand value itself: psi_s = [1, 1, sqrt2] / ((2 + sqrt2) / 3), psi_t = [1, 3, 2] / 2.
        Assert.Equal(0.0980515, HandDistance(s, t), 5);
    }

    [Fact]
    public void RkdDistance_ScaledTeacher_IsZero()
    {
        using var scope = NewDisposeScope();
        double[][] s = [[0, 0], [1, 0], [0, 1]];
        double[][] t = [[0, 0], [5, 0], [0, 5]];

        Assert.Equal(0.0, RelationalKdLoss.Distance(ToTensor(s), ToTensor(t)).item<float>(), 6);
    }

    [Fact]
    public void RkdAngle_FourPoints_MatchesHandComputedHuberOfCosines()
    {
        using var scope = NewDisposeScope();
        double[][] s = [[0, 0], [1, 0], [0, 1], [1, 1]];
        double[][] t = [[0, 0], [2, 0], [0, 1], [3, 3]];

        var loss = RelationalKdLoss.Angle(ToTensor(s), ToTensor(t)).item<float>();
        var combined = RelationalKdLoss.Compute(ToTensor(s), ToTensor(t)).item<float>();

        Assert.Equal(HandAngle(s, t), loss, 5);
        Assert.True(HandAngle(s, t) > 0.001);
        Assert.Equal((25 * HandDistance(s, t)) + (50 * HandAngle(s, t)), combined, 4);
    }

    [Fact]
    public void RkdCompute_DuplicateSamples_HasFiniteValueAndGradient()
    {
        using var scope = NewDisposeScope();
        // The same image twice in a batch (a small set cycling): a zero distance between different rows.
        var student = tensor(new float[] { 0, 0, 0, 0, 1, 2, 3, 1 }, [4, 2]).requires_grad_();
        var teacher = tensor(new float[] { 1, 1, 1, 1, 0, 2, 2, 0 }, [4, 2]);

        var loss = RelationalKdLoss.Compute(student, teacher);
        loss.backward();

        Assert.True(double.IsFinite(loss.item<float>()));
        Assert.True(student.grad!.isfinite().all().item<bool>());
    }

    [Fact]
    public void CrdInfoNce_OnePositiveOneNegative_IsLogOnePlusExpOfScoreGap()
    {
        using var scope = NewDisposeScope();
        var anchor = tensor(new float[] { 1, 0 }, [1, 2]);
        var positive = tensor(new float[] { 1, 0 }, [1, 2]);
        // Slot 1 is the anchor's own (masked); slot 0 is the negative, score 0. tau = 1: -log(e / (e + 1)) = log(1 + 1/e).
        var bank = tensor(new float[] { 0, 1, 1, 0 }, [2, 2]);

        var loss = ContrastiveRepresentationLoss.InfoNce(anchor, positive, bank, tensor(new long[] { 1 }), temperature: 1.0).item<float>();

        Assert.Equal(Math.Log(1 + Math.Exp(-1)), loss, 5);
    }

    [Fact]
    public void CrdCompute_Step_UpdatesOwnSlotsWithMomentumAndReportsBankBytes()
    {
        using var scope = NewDisposeScope();
        using var crd = new ContrastiveRepresentationLoss(3, 5, dim: 4, bankSize: 6, temperature: 0.07, momentum: 0.5);
        var before = crd.TeacherBank.clone();
        var ids = tensor(new long[] { 2, 9 }); // slots 2 and 3 (9 mod 6)
        var student = randn(2, 3);
        var teacher = randn(2, 5);

        var loss = crd.Compute(student, teacher, ids);
        using var noGrad = no_grad();
        var zt = nn.functional.normalize(crd.TeacherHead.call(teacher), p: 2, dim: 1);
        var expected = nn.functional.normalize((0.5 * before.index_select(0, tensor(new long[] { 2, 3 }))) + (0.5 * zt), p: 2, dim: 1);

        Assert.True(double.IsFinite(loss.item<float>()) && loss.item<float>() > 0);
        Assert.True(crd.TeacherBank.index_select(0, tensor(new long[] { 2, 3 })).allclose(expected, rtol: 1e-5, atol: 1e-6));
        Assert.True(crd.TeacherBank.index_select(0, tensor(new long[] { 0, 1, 4, 5 })).allclose(before.index_select(0, tensor(new long[] { 0, 1, 4, 5 })), rtol: 0, atol: 0));
        Assert.Equal(2L * 6 * 4 * 4, crd.BankBytes);
    }

    private static Tensor ToTensor(double[][] rows) =>
        tensor(rows.SelectMany(r => r.Select(v => (float)v)).ToArray(), [rows.Length, rows[0].Length]);

    private static double Huber(double a, double b) => Math.Abs(a - b) <= 1 ? 0.5 * (a - b) * (a - b) : Math.Abs(a - b) - 0.5;

    private static double Dist(double[] a, double[] b) => Math.Sqrt(a.Zip(b).Sum(p => (p.First - p.Second) * (p.First - p.Second)));

    /// <summary>mean over ordered pairs i != j of Huber(d_s(i,j)/mu_s, d_t(i,j)/mu_t).</summary>
    private static double HandDistance(double[][] s, double[][] t)
    {
        var n = s.Length;
        var pairs = (from i in Enumerable.Range(0, n) from j in Enumerable.Range(0, n) where i != j select (i, j)).ToList();
        var muS = pairs.Average(p => Dist(s[p.i], s[p.j]));
        var muT = pairs.Average(p => Dist(t[p.i], t[p.j]));
        return pairs.Average(p => Huber(Dist(s[p.i], s[p.j]) / muS, Dist(t[p.i], t[p.j]) / muT));
    }

    /// <summary>mean over all (i, j, k) of Huber(cos_s, cos_t), cos = &lt;unit(e_i - e_j), unit(e_k - e_j)&gt;, unit(0) = 0.</summary>
    private static double HandAngle(double[][] s, double[][] t)
    {
        static double[] Unit(double[] a, double[] b)
        {
            var d = a.Zip(b).Select(p => p.First - p.Second).ToArray();
            var norm = Math.Sqrt(d.Sum(v => v * v));
            return norm < 1e-12 ? new double[d.Length] : [.. d.Select(v => v / norm)];
        }
        static double Cos(double[][] e, int i, int j, int k) => Unit(e[i], e[j]).Zip(Unit(e[k], e[j])).Sum(p => p.First * p.Second);
        var n = s.Length;
        var sum = 0.0;
        for (var i = 0; i < n; i++)
        {
            for (var j = 0; j < n; j++)
            {
                for (var k = 0; k < n; k++)
                {
                    sum += Huber(Cos(s, i, j, k), Cos(t, i, j, k));
                }
            }
        }
        return sum / (n * n * n);
    }
}
