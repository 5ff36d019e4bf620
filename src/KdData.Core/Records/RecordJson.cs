using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using KdData.Export;

namespace KdData.Records;

/// <summary>
/// Writes and reads <c>quantization.json</c>, <c>export.json</c> and lineage through their types
/// (<see cref="RecordJsonContext"/>); checkpoint records go through <c>CheckpointSerializer</c>. Writing stamps the
/// type's current <c>format_version</c>; reading accepts that version and older ones, a record without the field
/// being <see cref="RecordFormat.Legacy"/>.
/// </summary>
public static class RecordJson
{
    /// <summary><paramref name="report"/> as indented UTF-8 JSON, stamped with the current version.</summary>
    public static byte[] Serialize(QuantizationReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonSerializer.SerializeToUtf8Bytes(
            report with { FormatVersion = QuantizationReport.CurrentFormatVersion }, RecordJsonContext.Default.QuantizationReport);
    }

    /// <summary>Reads a <c>quantization.json</c>.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON, a missing member, or a version this build cannot read.</exception>
    public static QuantizationReport ParseQuantizationReport(ReadOnlySpan<byte> json)
    {
        var report = Parse(json, RecordJsonContext.Default.QuantizationReport, "Quantization report");
        RecordFormat.Check(report.FormatVersion, QuantizationReport.CurrentFormatVersion, "Quantization report");
        return report;
    }

    /// <summary><paramref name="report"/> (and its lineage) as indented UTF-8 JSON, stamped with the current versions.</summary>
    public static byte[] Serialize(ExportReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        return JsonSerializer.SerializeToUtf8Bytes(
            report with { FormatVersion = ExportReport.CurrentFormatVersion, Lineage = Stamp(report.Lineage) }, RecordJsonContext.Default.ExportReport);
    }

    /// <summary>Reads an <c>export.json</c>.</summary>
    /// <exception cref="InvalidDataException">Malformed JSON, a missing member, or a version this build cannot read.</exception>
    public static ExportReport ParseExportReport(ReadOnlySpan<byte> json)
    {
        var report = Parse(json, RecordJsonContext.Default.ExportReport, "Export report");
        RecordFormat.Check(report.FormatVersion, ExportReport.CurrentFormatVersion, "Export report");
        CheckLineage(report.Lineage, "Export report 'lineage'");
        return report;
    }

    /// <summary>A lineage as indented JSON (the model card shows it whole), stamped with the current version.</summary>
    public static string ToIndentedJson(LineageRecord lineage)
    {
        ArgumentNullException.ThrowIfNull(lineage);
        return JsonSerializer.Serialize(Stamp(lineage), RecordJsonContext.Default.LineageRecord);
    }

    /// <summary>A parent checkpoint as compact JSON: a quoted path, or <c>{"path":...,"id":...}</c>.</summary>
    public static string ToCompactJson(ParentCheckpoint parent)
    {
        ArgumentNullException.ThrowIfNull(parent);
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            JsonSerializer.Serialize(writer, parent, RecordJsonContext.Default.ParentCheckpoint);
        }
        return Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>
    /// <paramref name="lineage"/> stamped with the version this build writes: whatever version it was read as, the
    /// types write it in the current layout.
    /// </summary>
    internal static LineageRecord? Stamp(LineageRecord? lineage) =>
        lineage is null ? null : lineage with { FormatVersion = LineageRecord.CurrentFormatVersion };

    /// <summary>Stops on a lineage whose version this build cannot read; <paramref name="where"/> names it for the message.</summary>
    internal static void CheckLineage(LineageRecord? lineage, string where)
    {
        if (lineage is not null)
        {
            RecordFormat.Check(lineage.FormatVersion, LineageRecord.CurrentFormatVersion, where);
        }
    }

    private static T Parse<T>(ReadOnlySpan<byte> json, JsonTypeInfo<T> type, string record)
    {
        T? value;
        try
        {
            value = JsonSerializer.Deserialize(json, type);
        }
        catch (JsonException ex)
        {
            throw new InvalidDataException($"{record} is not valid JSON of the expected shape: {ex.Message}", ex);
        }
        return value ?? throw new InvalidDataException($"{record} is JSON null.");
    }
}
