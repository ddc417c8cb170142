using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

/// <summary>
/// The whole audit pipeline: the real gateway, the real RabbitMQ (a virtual host of the test's own), the real audit
/// consumer as a child process, and PostgreSQL (a database of the test's own). The counting invariant holds end to
/// end: the sum of <c>details.count</c> stored for <c>rate_limit.exceeded</c> equals the 429s clients saw, and for
/// <c>ban.blocked</c> the 403s, each event stored once, even when the consumer is SIGKILLed in the middle.
/// </summary>
public sealed class EndToEndAuditTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly UpstreamServer _upstream = fixture.Upstream;
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    [Fact]
    public async Task EveryRejection_SeenByClients_IsStoredOnce_WithExactCounts()
    {
        await using var database = await EndToEndAuditDatabase.CreateAsync();
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        await using var consumer = new EndToEndConsumerProcess(database.ConnectionString, vhost.Name);
        await consumer.MigrateAsync();
        await consumer.StartAsync();

        var gateway = await GatewayServer.StartAsync(GatewayConfiguration(vhost.Name).Values);
        var seen = new Tally();
        try
        {
            await TrafficAsync(gateway, seen, "127.0.50.1", "127.0.50.2", "127.0.50.3", "127.0.50.4");
            await TrafficAsync(gateway, seen, "127.0.50.1", "127.0.50.2", "127.0.50.3", "127.0.50.4");
        }
        finally
        {
            // A graceful stop flushes the last aggregation interval.
            await gateway.DisposeAsync();
        }

        await AssertInvariantAsync(database, consumer, seen);
    }

    [Fact]
    public async Task ConsumerSigkilledMidTraffic_AndRestarted_TheInvariantStillHoldsExactly()
    {
        await using var database = await EndToEndAuditDatabase.CreateAsync();
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        await using var consumer = new EndToEndConsumerProcess(database.ConnectionString, vhost.Name);
        await consumer.MigrateAsync();
        await consumer.StartAsync();

        var gateway = await GatewayServer.StartAsync(GatewayConfiguration(vhost.Name).Values);
        var seen = new Tally();
        try
        {
            await TrafficAsync(gateway, seen, "127.0.50.11", "127.0.50.12");
            Assert.True(
                await Eventually.TrueAsync(async () => await database.AllRowsAsync() > 0, TimeSpan.FromSeconds(15)),
                $"nothing reached PostgreSQL before the kill:\n{consumer.Output}");

            // Killed while traffic (and so aggregation and publishing) is under way.
            var during = TrafficAsync(gateway, seen, "127.0.50.13", "127.0.50.14");
            await Task.Delay(TimeSpan.FromMilliseconds(100));
            await consumer.KillAsync();
            await during;

            // Published while no consumer runs: they wait in the durable queue.
            await TrafficAsync(gateway, seen, "127.0.50.15", "127.0.50.16");
            await Task.Delay(TimeSpan.FromMilliseconds(500));

            await consumer.StartAsync();
            await TrafficAsync(gateway, seen, "127.0.50.17", "127.0.50.18");
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        await AssertInvariantAsync(database, consumer, seen);
    }

    /// <summary>One request per minute on <c>/api</c>; two rejections ban the client for 30 s.</summary>
    private GatewayConfig GatewayConfiguration(string virtualHost)
        => new GatewayConfig(_upstream.Address)
            .Route("api", "/api", "tight")
            .Policy("tight", 1, "00:01:00")
            .Set("IpBans:Enabled", "true")
            .Set("IpBans:StrikesBeforeBan", "2")
            .List("IpBans:BanDurations", "00:00:30")
            .WithAudit(_spool, RabbitMqTestBroker.Port, virtualHost)
            .Set("Audit:AggregationInterval", "00:00:00.2");

    /// <summary>Each client: a few requests one by one (allowed, rejected, banned), then a concurrent burst.</summary>
    private static async Task TrafficAsync(GatewayServer gateway, Tally seen, params string[] clients)
        => await Task.WhenAll(clients.Select(async ip =>
        {
            using var client = TestClients.From(ip, gateway.Address);
            var statuses = new List<HttpStatusCode>();
            for (var i = 0; i < 3; i++)
            {
                using var response = await client.GetAsync("/api/x");
                statuses.Add(response.StatusCode);
            }

            await BanWaits.EnforcedAsync(gateway, ip);
            statuses.AddRange(await AuditTestKit.BurstAsync(client, "/api/x", 30));
            seen.Add(statuses);
        }));

    private static async Task AssertInvariantAsync(EndToEndAuditDatabase database, EndToEndConsumerProcess consumer, Tally seen)
    {
        Assert.True(seen.TooManyRequests > 0, "no client saw a 429");
        Assert.True(seen.Forbidden > 0, "no client saw a 403");

        long exceeded = -1, blocked = -1;
        var converged = await Eventually.TrueAsync(
            async () =>
            {
                exceeded = await database.SumOfCountsAsync(AuditEventTypes.RateLimitExceeded);
                blocked = await database.SumOfCountsAsync(AuditEventTypes.BanBlocked);
                return exceeded == seen.TooManyRequests && blocked == seen.Forbidden;
            },
            TimeSpan.FromSeconds(30));
        Assert.True(
            converged,
            $"stored rate_limit.exceeded={exceeded} (clients saw {seen.TooManyRequests} 429s), ban.blocked={blocked} (clients saw {seen.Forbidden} 403s)\n{consumer.Output}");

        // Settled: nothing more arrives later and pushes a sum past what clients saw.
        await Task.Delay(TimeSpan.FromMilliseconds(500));
        Assert.Equal(seen.TooManyRequests, await database.SumOfCountsAsync(AuditEventTypes.RateLimitExceeded));
        Assert.Equal(seen.Forbidden, await database.SumOfCountsAsync(AuditEventTypes.BanBlocked));
        Assert.True(await database.RowsAsync(AuditEventTypes.BanIssued) > 0, "no ban.issued row");
        Assert.Equal(0, await database.DuplicatedEventIdsAsync());
    }

    private sealed class Tally
    {
        private long _tooManyRequests;
        private long _forbidden;

        public long TooManyRequests => Interlocked.Read(ref _tooManyRequests);

        public long Forbidden => Interlocked.Read(ref _forbidden);

        public void Add(IReadOnlyCollection<HttpStatusCode> statuses)
        {
            Assert.All(statuses, s => Assert.True(
                s is HttpStatusCode.OK or HttpStatusCode.TooManyRequests or HttpStatusCode.Forbidden,
                s.ToString()));
            Interlocked.Add(ref _tooManyRequests, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
            Interlocked.Add(ref _forbidden, statuses.Count(s => s == HttpStatusCode.Forbidden));
        }
    }
}
