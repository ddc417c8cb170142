using System.Reflection;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.Logging;

namespace MdvGateway.Gateway.Tests.Diagnostics;

/// <summary>
/// Log event ids are what operators filter and alert on, so each must mean one thing: unique within a service, and in
/// the range its area is documented to use (README: "Log event ids"; AUDIT-RUNBOOK for the consumer).
/// </summary>
public sealed class LogEventIdTests
{
    public static TheoryData<string> Services => ["gateway", "audit-consumer"];

    [Theory]
    [MemberData(nameof(Services))]
    public void EveryLogEventId_IsUsedByOneMessageOnly(string service)
    {
        var events = LogEvents(service);
        Assert.NotEmpty(events);

        var reused = events.GroupBy(e => e.Id).Where(g => g.Count() > 1).Select(g => $"{g.Key}: {string.Join(", ", g.Select(e => e.Method))}").ToList();
        Assert.True(reused.Count == 0, "event ids used more than once:\n" + string.Join("\n", reused));
    }

    [Fact]
    public void GatewayLogEventIds_AreInTheirAreasDocumentedRange()
    {
        // The README's table: namespace → range of ids.
        var ranges = new Dictionary<string, (int From, int To)>
        {
            ["MdvGateway.Gateway.Configuration"] = (1000, 1999),
            ["MdvGateway.Gateway.Redis"] = (2000, 2999),
            ["MdvGateway.Gateway.RateLimiting"] = (3000, 3999),
            ["MdvGateway.Gateway.IpBans"] = (4000, 4999),
            ["MdvGateway.Gateway.Admin"] = (5000, 5999),
            ["MdvGateway.Gateway.Auditing"] = (6000, 6999),
            ["MdvGateway.Gateway.Proxy"] = (7000, 7099),
            ["MdvGateway.Gateway.Diagnostics"] = (7100, 7199),
        };

        var misplaced = LogEvents("gateway")
            .Where(e => !ranges.TryGetValue(e.Namespace, out var range) || e.Id < range.From || e.Id > range.To)
            .Select(e => $"{e.Id} {e.Method} ({e.Namespace})")
            .ToList();
        Assert.True(misplaced.Count == 0, "event ids outside their area's range:\n" + string.Join("\n", misplaced));
    }

    private static List<(int Id, string Method, string Namespace)> LogEvents(string service)
    {
        var assembly = service == "gateway" ? typeof(RedisKeys).Assembly : typeof(AuditMetrics).Assembly;
        const BindingFlags all = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static | BindingFlags.Instance | BindingFlags.DeclaredOnly;
        return [.. assembly.GetTypes()
            .SelectMany(t => t.GetMethods(all))
            .Select(m => (Method: m, Attribute: m.GetCustomAttribute<LoggerMessageAttribute>()))
            .Where(x => x.Attribute is not null)
            .Select(x => (x.Attribute!.EventId, $"{x.Method.DeclaringType!.FullName}.{x.Method.Name}", TopNamespace(x.Method.DeclaringType!)))];
    }

    private static string TopNamespace(Type type)
    {
        var ns = type.Namespace ?? string.Empty;
        var parts = ns.Split('.');
        return parts.Length >= 3 ? string.Join('.', parts[..3]) : ns;
    }
}
