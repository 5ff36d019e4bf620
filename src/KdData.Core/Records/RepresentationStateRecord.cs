using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;

namespace KdData.Records;

/// <summary>
/// <c>training.representation</c>: the file beside the weights holding the representation-KD terms' trained parts
/// (hint adapter, CRD heads and banks), which a resume loads and checks. The description of the terms (which ones,
/// their layers and sizes) is kept as JSON as <c>RepresentationDistillation.Describe</c> writes it.
/// </summary>
public sealed record RepresentationStateRecord
{
    /// <summary>File name of the state, beside the record.</summary>
    public string? File { get; init; }

    /// <summary>SHA-256 of that file.</summary>
    public string? Sha256 { get; init; }

    /// <summary>The terms and their settings (<c>terms</c>, <c>hint</c>, <c>attention</c>, <c>rkd</c>, <c>crd</c>); settable because System.Text.Json fills it after construction (see <see cref="TrainingRecord.Other"/>).</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Terms { get; set; }

    /// <summary>The record of a state saved as <paramref name="file"/> (SHA-256 <paramref name="sha256"/>), with the terms' <paramref name="description"/>.</summary>
    public static RepresentationStateRecord From(JsonObject description, string file, string sha256)
    {
        ArgumentNullException.ThrowIfNull(description);
        var terms = description.Deserialize(RecordJsonContext.Default.RepresentationStateRecord)!;
        return terms with { File = file, Sha256 = sha256 };
    }
}
