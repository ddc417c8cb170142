using System.Text.Json;
using MdvGateway.Contracts;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>Audit events as the gateway publishes them.</summary>
internal static class AuditEvents
{
    /// <summary>Now, at PostgreSQL's precision (microseconds), so a stored value compares equal.</summary>
    public static DateTimeOffset Now()
    {
        var now = DateTimeOffset.UtcNow;
        return new DateTimeOffset(now.Ticks - now.Ticks % 10, TimeSpan.Zero);
    }

    public static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();

    public static AuditEventRecorded RateLimitExceeded(int count = 3, DateTimeOffset? at = null, string client = "203.0.113.7")
    {
        var occurred = at ?? Now();
        return new AuditEventRecorded(Guid.NewGuid(), occurred, AuditEventTypes.RateLimitExceeded, client, "api", "per-ip", "gw-1",
            Json($$"""{"count":{{count}},"firstAt":"{{occurred.AddSeconds(-1):O}}","lastAt":"{{occurred:O}}","limit":100,"window":1}"""));
    }

    public static IEnumerable<AuditEventRecorded> Many(int count, DateTimeOffset? at = null)
    {
        var occurred = at ?? Now();
        return Enumerable.Range(0, count).Select(i => RateLimitExceeded(1 + i % 7, occurred.AddMilliseconds(i), $"198.51.100.{i % 250}"));
    }
}
