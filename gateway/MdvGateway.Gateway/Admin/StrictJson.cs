using System.Text.Json;
using System.Text.Json.Serialization.Metadata;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Reads JSON objects the strict way, with errors a person can act on: unknown, duplicate and missing fields are
/// named, and a value of the wrong type names its field (the serializer's own messages name internal types).
/// </summary>
internal static class StrictJson
{
    public static readonly JsonDocumentOptions DocumentOptions = new() { MaxDepth = 16 };

    /// <summary>Parses a whole body; a syntax error becomes a 400 naming where it is.</summary>
    public static JsonDocument Parse(ReadOnlyMemory<byte> body)
    {
        try
        {
            return JsonDocument.Parse(body, DocumentOptions);
        }
        catch (JsonException ex)
        {
            throw AdminRequestException.BadRequest(
                $"The body is not valid JSON (line {(ex.LineNumber ?? 0) + 1}, byte {(ex.BytePositionInLine ?? 0) + 1}).");
        }
    }

    /// <param name="element">The object to read.</param>
    /// <param name="typeInfo">Its type.</param>
    /// <param name="fields">The accepted field names (matched case-insensitively, reported as written here).</param>
    /// <param name="required">Fields that must be present (null is a value).</param>
    /// <param name="value">The object read.</param>
    /// <param name="present">The accepted names of the fields that were present.</param>
    /// <param name="error">Why the object was refused.</param>
    public static bool TryRead<T>(
        JsonElement element,
        JsonTypeInfo<T> typeInfo,
        IReadOnlyList<string> fields,
        IReadOnlyList<string> required,
        out T? value,
        out HashSet<string> present,
        out string error)
    {
        value = default;
        present = new HashSet<string>(StringComparer.Ordinal);
        if (element.ValueKind != JsonValueKind.Object)
        {
            error = $"expected a JSON object, found {Describe(element.ValueKind)}";
            return false;
        }

        foreach (var property in element.EnumerateObject())
        {
            var known = fields.FirstOrDefault(f => string.Equals(f, property.Name, StringComparison.OrdinalIgnoreCase));
            if (known is null)
            {
                error = $"unknown field '{Shorten(property.Name)}' (known fields: {string.Join(", ", fields)})";
                return false;
            }

            if (!present.Add(known))
            {
                error = $"field '{known}' appears more than once";
                return false;
            }
        }

        foreach (var field in required)
        {
            if (!present.Contains(field))
            {
                error = $"field '{field}' is required";
                return false;
            }
        }

        try
        {
            value = element.Deserialize(typeInfo);
        }
        catch (JsonException ex)
        {
            var field = ex.Path is { Length: > 2 } path && path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : null;
            error = field is null ? "the object does not have the expected shape" : $"field '{Shorten(field)}' has the wrong type";
            return false;
        }

        if (value is null)
        {
            error = "expected a JSON object, found null";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };

    private static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
