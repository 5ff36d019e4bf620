using KdData.Evaluation;

namespace KdData.Tests.Evaluation;

public sealed class TeacherAgreementTests
{
    [Fact]
    public void Compute_HandWorkedPairs_AgreementAndMeanKl()
    {
        // Sample 1: student (0.5, 0.5) -> argmax 0 (tie), teacher (0.8, 0.2) -> 0: agree;
        //   KL = 0.8 ln(0.8/0.5) + 0.2 ln(0.2/0.5).
        // Sample 2: identical logits (teacher shifted by +3, which softmax ignores): agree, KL 0.
        // Sample 3: student (2, 0), teacher (0, 2): disagree; KL = (s(2) - s(-2)) * ln(s(2)/s(-2)) = 0.761594 * 2
        //   with s the logistic function.
        float[] student = [0, 0, 1, 2, 2, 0];
        float[] teacher = [(float)Math.Log(0.8), (float)Math.Log(0.2), 4, 5, 0, 2];
        var kl1 = (0.8 * Math.Log(0.8 / 0.5)) + (0.2 * Math.Log(0.2 / 0.5));
        var sig = 1 / (1 + Math.Exp(-2));
        var kl3 = ((2 * sig) - 1) * Math.Log(sig / (1 - sig));

        var agreement = TeacherAgreement.Compute(student, teacher, numClasses: 2);

        Assert.Equal(3, agreement.Count);
        Assert.Equal(2.0 / 3, agreement.Top1Agreement, 12);
        Assert.Equal((kl1 + 0 + kl3) / 3, agreement.MeanKlTeacherStudent, 6);
        Assert.Equal(1.523188, kl3, 5);
    }

    [Fact]
    public void Compute_SameModel_FullAgreementAndZeroKl()
    {
        float[] logits = [0.3f, -1, 2, 5, 0, 0.1f];

        var agreement = TeacherAgreement.Compute(logits, logits, numClasses: 3);

        Assert.Equal(1.0, agreement.Top1Agreement);
        Assert.Equal(0, agreement.MeanKlTeacherStudent, 9);
    }

    [Fact]
    public void Compute_DifferentSampleCounts_Throws()
    {
        Assert.Throws<ArgumentException>(() => TeacherAgreement.Compute([0, 1, 2, 3], [0, 1], numClasses: 2));
    }
}
