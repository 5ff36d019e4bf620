using System.Globalization;
using System.Text.Json;
using KdData.Imaging;
using KdData.Models;

namespace KdData.Labeling;

/// <summary>
/// The key-value metadata written into every shard's Parquet footer: enough for a reader to know which teacher made
/// the soft targets, how it saw the images (preprocessing, views), where the images are, and how rows were filtered.
/// </summary>
internal static class ShardFooter
{
    public static Dictionary<string, string> Metadata(
        InferenceModel teacher, string inputLocation, ImageOptions imageOptions, LabelingOptions options, int topK, float[] classThresholds, int partition, int partitionCount)
    {
        var record = teacher.Record;
        return new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["kddata.labeler_version"] = LabelingRun.Version,
            // Where the keys are relative to (no credentials), so a trainer can fetch the images the teacher saw.
            ["kddata.input"] = inputLocation,
            ["kddata.teacher"] = JsonSerializer.Serialize(new
            {
                id = teacher.Id,
                architecture = record.Architecture,
                weights_sha256 = record.WeightsSha256,
                classes = record.Classes,
                source = teacher.Source,
            }),
            ["kddata.preprocessing"] = JsonSerializer.Serialize(new
            {
                size = imageOptions.OutputSize,
                channels = imageOptions.Channels,
                mean = imageOptions.Mean,
                std = imageOptions.Std,
                resize_mode = imageOptions.ResizeMode.ToString(),
                views_per_image = options.ViewsPerImage,
                view_seed = options.ViewSeed,
                view_scale_min = options.ViewScaleMin,
            }),
            ["kddata.temperature"] = "1",
            ["kddata.top_k"] = topK.ToString(CultureInfo.InvariantCulture),
            ["kddata.thresholds"] = JsonSerializer.Serialize(new { min_confidence = options.MinConfidence, per_class = classThresholds, caps = options.ClassCaps }),
            ["kddata.partition"] = string.Create(CultureInfo.InvariantCulture, $"{partition}/{partitionCount}"),
        };
    }
}
