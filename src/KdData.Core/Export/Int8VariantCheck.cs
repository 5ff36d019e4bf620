using KdData.Evaluation;
using KdData.Quantization;

namespace KdData.Export;

/// <summary>
/// What <c>export</c> checks about an int8 model it ships: the scheme (from its metadata), its overflow check, and,
/// on the labeled images, its top-1 agreement with its own QDQ graph computed in float (ONNX Runtime without graph
/// optimizations: no integer kernels), the check, and with the exported fp32 model, reported. The float run is the
/// reference because the int8 file may come from other weights than the exported checkpoint (QAT trains them
/// further), while the question export asks is whether this CPU's integer kernels compute that int8 model.
/// </summary>
public static class Int8VariantCheck
{
    /// <param name="path">The int8 ONNX model.</param>
    /// <param name="fp32Session">The exported fp32 model's session.</param>
    /// <param name="int8Session">The int8 model's session (optimized: the kernels that will serve it).</param>
    /// <param name="labeled">The evaluated images; null without a dataset (no agreement is measured).</param>
    /// <param name="options">Threads, batch size and the agreement the model is held to.</param>
    /// <param name="cancellationToken">Cancels between batches.</param>
    public static Int8VariantReport Run(string path, OnnxModelSession fp32Session, OnnxModelSession int8Session, EvaluationImages? labeled,
        Int8VariantCheckOptions options, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(options);
        var bytes = File.ReadAllBytes(path);
        var model = Onnx.ModelProto.Parser.ParseFrom(bytes);
        var saturation = PairSaturationCheck.Analyze(model);
        Int8AgreementCheck? agreement = null;
        double? withFp32 = null;
        if (labeled is not null)
        {
            var quantized = VariantMeasurer.Logits(int8Session, labeled, options.BatchSize, cancellationToken);
            float[] simulated;
            using (var reference = new OnnxModelSession(bytes, options.Threads, optimize: false))
            {
                simulated = VariantMeasurer.Logits(reference, labeled, options.BatchSize, cancellationToken);
            }
            agreement = new Int8AgreementCheck
            {
                Top1Agreement = TeacherAgreement.Compute(quantized, simulated, labeled.NumClasses).Top1Agreement,
                Minimum = options.MinAgreement,
                Images = labeled.Count,
                AcceptLow = options.AcceptLow,
            };
            withFp32 = TeacherAgreement.Compute(quantized, VariantMeasurer.Logits(fp32Session, labeled, options.BatchSize, cancellationToken), labeled.NumClasses).Top1Agreement;
        }
        return new Int8VariantReport
        {
            File = Path.GetFileName(path),
            WeightBits = QdqModelWriter.WeightBitsOf(model),
            Scheme = model.MetadataProps.FirstOrDefault(p => p.Key == QdqModelWriter.SchemeKey)?.Value,
            SafeWithoutVnni = saturation.Safe,
            WorstPairSum = saturation.WorstPairSum,
            Agreement = agreement,
            AgreementWithExportedFp32 = withFp32,
        };
    }
}
