using System.Diagnostics;
using System.Text.Json;

namespace MdvGateway.Gateway.Proxy;

/// <summary>
/// Writes the gateway's own error answers as <c>application/problem+json</c> (RFC 9457), with a <c>traceId</c> so a
/// client's complaint can be matched to a log line. Extension members are written after the standard ones.
/// </summary>
internal static class ProblemResponse
{
    public const string ContentType = "application/problem+json";

    // Problem bodies are never embedded in HTML, so quotes and apostrophes need no escaping.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Task WriteAsync(
        HttpContext context,
        int status,
        string type,
        string title,
        string detail,
        Action<Utf8JsonWriter>? extensions = null)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = ContentType;
        response.Headers.CacheControl = "no-store";

        var buffer = new System.Buffers.ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            writer.WriteStartObject();
            writer.WriteString("type", type);
            writer.WriteString("title", title);
            writer.WriteNumber("status", status);
            writer.WriteString("detail", detail);
            extensions?.Invoke(writer);
            writer.WriteString("traceId", Activity.Current?.Id ?? context.TraceIdentifier);
            writer.WriteEndObject();
        }

        response.ContentLength = buffer.WrittenCount;
        return HttpMethods.IsHead(context.Request.Method)
            ? Task.CompletedTask
            : response.Body.WriteAsync(buffer.WrittenMemory).AsTask();
    }
}
