using System.Text.Json.Serialization;

namespace KdData.Bench;

/// <summary>What one input kind of <c>packed</c> put into Azurite.</summary>
/// <param name="Objects">Blobs under the input location (loose: one per image; packed: files).</param>
/// <param name="Bytes">Their total size.</param>
internal sealed record PackedInputSize(
    [property: JsonPropertyName("objects")] int Objects,
    [property: JsonPropertyName("bytes")] long Bytes);
