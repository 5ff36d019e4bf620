using System.Text.Json;
using System.Text.Json.Serialization;

namespace KdData.Records;

/// <summary>Reads and writes a <see cref="ParentCheckpoint"/> in either of its two layouts: a path string, or an object with <c>path</c> and <c>id</c>.</summary>
public sealed class ParentCheckpointJsonConverter : JsonConverter<ParentCheckpoint>
{
    public override ParentCheckpoint Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        if (reader.TokenType == JsonTokenType.String)
        {
            return new ParentCheckpoint { Path = reader.GetString()! };
        }
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new JsonException($"A parent checkpoint is a path or an object with 'path' and 'id', not {reader.TokenType}.");
        }
        string? path = null;
        string? id = null;
        while (reader.Read() && reader.TokenType != JsonTokenType.EndObject)
        {
            var name = reader.GetString();
            reader.Read();
            switch (name)
            {
                case "path":
                    path = reader.GetString();
                    break;
                case "id":
                    id = reader.GetString();
                    break;
                default:
                    reader.Skip();
                    break;
            }
        }
        return new ParentCheckpoint { Path = path ?? throw new JsonException("A parent checkpoint object has no 'path'."), Id = id };
    }

    public override void Write(Utf8JsonWriter writer, ParentCheckpoint value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(value);
        if (value.Id is null)
        {
            writer.WriteStringValue(value.Path);
            return;
        }
        writer.WriteStartObject();
        writer.WriteString("path", value.Path);
        writer.WriteString("id", value.Id);
        writer.WriteEndObject();
    }
}
