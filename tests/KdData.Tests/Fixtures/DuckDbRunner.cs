using System.Collections;
using System.Globalization;
using System.Numerics;
using System.Text.Json;
using DuckDB.NET.Data;

namespace KdData.Tests.Fixtures;

/// <summary>
/// Runs SQL in DuckDB (in process, through <c>DuckDB.NET.Data.Full</c>, which carries DuckDB's own native library) so
/// tests can check that files we write are readable by another engine: DuckDB's Parquet reader shares no code with
/// Parquet.Net. Each query runs against a fresh in-memory database; results come back as JSON row objects (numbers,
/// strings, booleans, nulls and arrays for DuckDB lists) so the assertions read the same for any column type.
/// </summary>
public sealed class DuckDbRunner
{
    private static readonly DuckDbRunner Shared = new("Data Source=:memory:");

    private readonly string _connectionString;

    private DuckDbRunner(string connectionString) => _connectionString = connectionString;

    /// <summary>Returns the runner (asynchronous for the callers' sake: nothing needs installing any more).</summary>
    public static Task<DuckDbRunner> GetAsync() => Task.FromResult(Shared);

    /// <summary>Runs one SQL statement and returns its rows as JSON objects.</summary>
    /// <exception cref="InvalidOperationException">DuckDB rejected the statement; its message is included.</exception>
    public async Task<IReadOnlyList<JsonElement>> QueryAsync(string sql, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(sql);
        try
        {
            await using var connection = new DuckDBConnection(_connectionString);
            await connection.OpenAsync(cancellationToken);
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            using var buffer = new MemoryStream();
            await using (var json = new Utf8JsonWriter(buffer))
            {
                json.WriteStartArray();
                while (await reader.ReadAsync(cancellationToken))
                {
                    json.WriteStartObject();
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        json.WritePropertyName(reader.GetName(i));
                        Write(json, await reader.IsDBNullAsync(i, cancellationToken) ? null : reader.GetValue(i));
                    }

                    json.WriteEndObject();
                }

                json.WriteEndArray();
            }

            using var document = JsonDocument.Parse(buffer.ToArray());
            return [.. document.RootElement.EnumerateArray().Select(row => row.Clone())];
        }
        catch (DuckDBException e)
        {
            throw new InvalidOperationException($"DuckDB query `{sql}` failed: {e.Message}", e);
        }
    }

    /// <summary>Quotes a file path as a SQL string literal.</summary>
    public static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    private static void Write(Utf8JsonWriter json, object? value)
    {
        switch (value)
        {
            case null or DBNull:
                json.WriteNullValue();
                break;
            case bool b:
                json.WriteBooleanValue(b);
                break;
            case string s:
                json.WriteStringValue(s);
                break;
            case float f:
                json.WriteNumberValue(f);
                break;
            case double d:
                json.WriteNumberValue(d);
                break;
            case decimal m:
                json.WriteNumberValue(m);
                break;
            case sbyte or byte or short or ushort or int or uint or long:
                json.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong u:
                json.WriteNumberValue(u);
                break;
            case BigInteger big:
                json.WriteRawValue(big.ToString(CultureInfo.InvariantCulture));
                break;
            case byte[] bytes:
                json.WriteBase64StringValue(bytes);
                break;
            case IEnumerable list:
                json.WriteStartArray();
                foreach (var item in list)
                {
                    Write(json, item);
                }

                json.WriteEndArray();
                break;
            default:
                json.WriteStringValue(Convert.ToString(value, CultureInfo.InvariantCulture));
                break;
        }
    }
}
