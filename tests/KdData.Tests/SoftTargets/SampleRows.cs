using KdData.Imaging;
using KdData.SoftTargets;

namespace KdData.Tests.SoftTargets;

/// <summary>Deterministic rows for shard tests: varied crops, flips, and top-k lengths from 1 to C.</summary>
internal static class SampleRows
{
    public const int NumClasses = 7;

    public static List<SoftTargetRow> SoftTargets(int count, int seed = 1234)
    {
        var random = new Random(seed);
        var rows = new List<SoftTargetRow>(count);
        var logits = new float[NumClasses];
        for (var i = 0; i < count; i++)
        {
            for (var c = 0; c < NumClasses; c++)
            {
                logits[c] = (float)(random.NextDouble() * 8 - 4);
            }

            var view = i % 3;
            var crop = new CropDecision(
                new CropBox(random.Next(0, 100), random.Next(0, 100), random.Next(1, 500), random.Next(1, 500)),
                random.Next(2) == 1);
            rows.Add(new SoftTargetRow(
                $"images/img-{i / 3:D6}.jpg",
                $"\"0x8D{i:X8}\"",
                10_000 + (i * 37L),
                view,
                crop,
                SoftTarget.FromLogits(logits, topK: 1 + (i % NumClasses))));
        }

        return rows;
    }

    public static List<ErrorRow> Errors() =>
    [
        new("images/broken.jpg", "\"0x1\"", 123, "decode", "truncated", "Unexpected end of JPEG data", null),
        new("images/gone.png", "\"0x2\"", 0, "fetch", "not-found", "404 The specified blob does not exist.", null),
        new("images/ok-but-view.jpg", "\"0x3\"", 4567, "infer", "non-finite", "Logits contain NaN — view skipped", 2),
    ];

    public static Dictionary<string, string> Metadata() => new()
    {
        ["kddata.teacher"] = """{"model":"wrn-16-4","classes":7,"checkpoint":"teacher-ä.safetensors"}""",
        ["kddata.version"] = "1",
    };
}
