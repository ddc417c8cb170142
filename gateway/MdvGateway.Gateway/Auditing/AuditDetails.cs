using System.Buffers;
using System.Globalization;
using System.Text.Json;

namespace MdvGateway.Gateway.Auditing;

/// <summary>Builds the <c>details</c> object of an event, with times and durations in one format everywhere.</summary>
internal static class AuditDetails
{
    public static JsonElement Build(Action<Utf8JsonWriter> write)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            write(writer);
            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    /// <summary>UTC, millisecond precision, e.g. <c>2026-11-25T18:54:12.345Z</c>.</summary>
    public static string Timestamp(DateTimeOffset value)
        => value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    public static void WriteTimestamp(this Utf8JsonWriter writer, string name, DateTimeOffset value)
        => writer.WriteString(name, Timestamp(value));

    /// <summary>Durations are numbers of seconds (fractions kept), so SQL can compare them.</summary>
    public static void WriteSeconds(this Utf8JsonWriter writer, string name, TimeSpan value)
        => writer.WriteNumber(name, Math.Round(value.TotalSeconds, 3));
}
