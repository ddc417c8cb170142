using System.Text.Json;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>
/// A gateway's log written, as operators configure it, to a file sink in compact JSON, and read back line by line
/// once the gateway has stopped (stopping disposes the logger, which flushes the file).
/// </summary>
internal static class FileLog
{
    /// <summary>Information and above, compact JSON, to <paramref name="path"/>.</summary>
    public static GatewayConfig WithFileLog(this GatewayConfig config, string path)
        => config
            .Set("Serilog:MinimumLevel:Default", "Information")
            .Set("Serilog:WriteTo:0:Name", "File")
            .Set("Serilog:WriteTo:0:Args:path", path)
            .Set("Serilog:WriteTo:0:Args:formatter", "Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact");

    public static List<JsonElement> Read(string path)
        => [.. File.ReadLines(path).Select(line => JsonDocument.Parse(line).RootElement.Clone())];

    /// <summary>The line's <c>SourceContext</c>, empty when it has none.</summary>
    public static string SourceContext(JsonElement line)
        => line.TryGetProperty("SourceContext", out var context) ? context.GetString() ?? string.Empty : string.Empty;
}
