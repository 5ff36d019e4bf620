using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>One teacher-only measurement.</summary>
/// <param name="Batches">Timed batches (after the warm-up).</param>
/// <param name="Seconds">Wall time of the timed batches.</param>
/// <param name="ImagesPerSecond">Images of the timed batches / their wall time: the reference for the ratios.</param>
/// <param name="MedianBatchImagesPerSecond">Batch size / median batch time (less sensitive to other load on the machine).</param>
/// <param name="BestBatchImagesPerSecond">Batch size / fastest batch time.</param>
/// <param name="CpuSecondsPerImage">Process CPU time per image: less sensitive to other load than wall time.</param>
internal sealed record TeacherThroughputResult(
    [property: JsonPropertyName("batches")] int Batches,
    [property: JsonPropertyName("seconds")] double Seconds,
    [property: JsonPropertyName("images_per_second")] double ImagesPerSecond,
    [property: JsonPropertyName("median_batch_images_per_second")] double MedianBatchImagesPerSecond,
    [property: JsonPropertyName("best_batch_images_per_second")] double BestBatchImagesPerSecond,
    [property: JsonPropertyName("cpu_seconds_per_image")] double CpuSecondsPerImage);
