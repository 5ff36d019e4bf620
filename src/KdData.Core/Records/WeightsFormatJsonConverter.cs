using System.Text.Json;
using System.Text.Json.Serialization;
using KdData.Models;

namespace KdData.Records;

/// <summary>
/// <see cref="WeightsFormat"/> as a snake_case string (<c>safetensors</c>, <c>torch_sharp</c>), as checkpoint records
/// have always written it; a generated context names its converters by type, so the naming policy is fixed here.
/// </summary>
public sealed class WeightsFormatJsonConverter() : JsonStringEnumConverter<WeightsFormat>(JsonNamingPolicy.SnakeCaseLower);
