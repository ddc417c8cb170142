using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.Auditing;

/// <summary>
/// An address rotation cannot grow the audit aggregator without bound: past its client buckets, new clients are
/// counted by network, then by address family, with exact counts and never without an address.
/// </summary>
public sealed class AuditAggregatorBoundsTests
{
    private static readonly RateLimit Auth = new("auth", 5, TimeSpan.FromMinutes(1));
    private static readonly DateTimeOffset At = new(2026, 12, 7, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void PastItsClientBuckets_NewClientsAreCountedByTheirNetwork_ExactlyAndWithAnAddress()
    {
        var aggregator = new AuditAggregator(maxClientBuckets: 100);
        for (var i = 0; i < 100; i++)
        {
            aggregator.AddRejection($"10.0.0.{i}", "login", "auth", Auth, At);
        }

        // 300 more clients in three /24s, and a client that already has its bucket.
        for (var i = 0; i < 300; i++)
        {
            aggregator.AddRejection($"10.9.{i / 100}.{i % 100}", "login", "auth", Auth, At);
        }

        aggregator.AddRejection("10.0.0.7", "login", "auth", Auth, At);

        Assert.Equal(103, aggregator.BucketCount);
        var events = aggregator.Flush(At.AddSeconds(1), "gateway:test:1");
        Assert.Equal(401, events.Sum(Count));
        Assert.DoesNotContain(events, e => e.ClientIp is null);
        Assert.Equal(2, events.Single(e => e.ClientIp == "10.0.0.7").Details.GetProperty("count").GetInt64());
        var networks = events.Where(e => e.ClientIp!.Contains('/', StringComparison.Ordinal)).OrderBy(e => e.ClientIp, StringComparer.Ordinal).ToList();
        Assert.Equal(["10.9.0.0/24", "10.9.1.0/24", "10.9.2.0/24"], networks.Select(e => e.ClientIp));
        Assert.All(networks, e =>
        {
            Assert.Equal(100, Count(e));
            Assert.Equal("network", e.Details.GetProperty("aggregated").GetString());
        });
    }

    [Fact]
    public void PastItsNetworkBucketsToo_ClientsAreCountedPerAddressFamily_AndTheTableStaysBounded()
    {
        var aggregator = new AuditAggregator(maxClientBuckets: 100);
        var added = 0;
        for (var i = 0; i < 20_000; i++)
        {
            // A rotation over IPv6 /48s: every client in a network of its own.
            aggregator.AddBanBlocked($"2001:db8:{i:x}:1::/64", At);
            added++;
        }

        for (var i = 0; i < 500; i++)
        {
            aggregator.AddAbuseRefused($"192.0.{i % 250}.{i / 250}", "connections", At);
            added++;
        }

        Assert.InRange(aggregator.BucketCount, 100, aggregator.MaxClientBuckets + aggregator.MaxNetworkBuckets + 4);
        var events = aggregator.Flush(At.AddSeconds(1), "gateway:test:1");
        Assert.Equal(added, events.Sum(Count));
        var v6 = events.Single(e => e.ClientIp == "::/0");
        Assert.Equal(AuditEventTypes.BanBlocked, v6.EventType);
        Assert.Equal("all", v6.Details.GetProperty("aggregated").GetString());
        var v4 = events.Single(e => e.ClientIp == "0.0.0.0/0");
        Assert.Equal(500, Count(v4));
        Assert.Equal("connections", v4.Details.GetProperty("reason").GetString());
        Assert.Empty(aggregator.Flush(At.AddSeconds(2), "gateway:test:1"));
        Assert.Equal(0, aggregator.BucketCount);
    }

    private static long Count(AuditEventRecorded e) => e.Details.GetProperty("count").GetInt64();
}
