namespace KdData.Quantization;

/// <summary>How a quantized activation's range is chosen from the calibration images.</summary>
public enum CalibrationMethod
{
    /// <summary>The smallest and largest value seen (<see cref="MinMaxObserver"/>).</summary>
    MinMax,

    /// <summary>Clip the tails at a percentile of the values (<see cref="PercentileCalibration"/>).</summary>
    Percentile,

    /// <summary>The clip threshold that minimises KL(reference || quantized) of the histogram, TensorRT style (<see cref="EntropyCalibration"/>).</summary>
    Entropy,
}
