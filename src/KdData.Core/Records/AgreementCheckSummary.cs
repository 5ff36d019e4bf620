namespace KdData.Records;

/// <summary>
/// <c>quantization.json</c> <c>agreement_check</c>: whether the int8 kernels compute what the model is (agreement with
/// <see cref="Reference"/> against a minimum), the check that makes <c>quantize</c> exit 5.
/// </summary>
public sealed record AgreementCheckSummary
{
    /// <summary>What int8 was compared with, in words.</summary>
    public required string Reference { get; init; }

    public required double Top1Agreement { get; init; }

    public required double Minimum { get; init; }

    public required bool Passed { get; init; }

    /// <summary>True when the check failed and <c>Trainer:Quantize:AcceptLowAgreement</c> kept the model anyway.</summary>
    public required bool AcceptedBelowMinimum { get; init; }
}
