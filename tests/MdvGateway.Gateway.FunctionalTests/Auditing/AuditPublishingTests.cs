using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

/// <summary>The gateway against the real RabbitMQ: what reaches the <c>audit-events</c> queue, and with which counts.</summary>
public sealed class AuditPublishingTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly UpstreamServer _upstream = fixture.Upstream;
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    [Fact]
    public async Task Rejections_OfConcurrentClients_AreAggregatedWithExactCounts()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var config = new GatewayConfig(_upstream.Address)
            .Route("login", "/auth", "auth")
            .Policy("auth", 3, "00:01:00")
            .WithAudit(_spool, RabbitMqTestBroker.Port, vhost.Name)
            .Set("Audit:AggregationInterval", "00:00:00.2");
        var gateway = await GatewayServer.StartAsync(config.Values);
        var clients = new[] { "127.0.40.1", "127.0.40.2", "127.0.40.3", "127.0.40.4" };
        var rejected = new Dictionary<string, int>(StringComparer.Ordinal);
        try
        {
            // Several bursts per client, spread over more than one aggregation interval.
            foreach (var round in Enumerable.Range(0, 3))
            {
                var statuses = await Task.WhenAll(clients.Select(async ip =>
                {
                    using var client = TestClients.From(ip, gateway.Address);
                    return (ip, await AuditTestKit.BurstAsync(client, "/auth/login", 40));
                }));
                foreach (var (ip, codes) in statuses)
                {
                    Assert.All(codes, c => Assert.True(c is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, c.ToString()));
                    rejected[ip] = rejected.GetValueOrDefault(ip) + codes.Count(c => c == HttpStatusCode.TooManyRequests);
                }

                await Task.Delay(TimeSpan.FromMilliseconds(250 * round));
            }
        }
        finally
        {
            // A graceful stop flushes the last interval and publishes what is queued.
            await gateway.DisposeAsync();
        }

        var events = await vhost.TakeAllAsync();

        Assert.All(clients, ip => Assert.Equal(117, rejected[ip]));
        var exceeded = events.Where(e => e.EventType == AuditEventTypes.RateLimitExceeded).ToList();
        foreach (var ip in clients)
        {
            Assert.Equal(rejected[ip], AuditTestKit.SumOfCounts(exceeded, AuditEventTypes.RateLimitExceeded, ip));
        }

        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
        Assert.All(exceeded, e =>
        {
            Assert.Equal(("login", "auth"), (e.RouteId, e.Policy));
            Assert.Equal(3, e.Details.GetProperty("limit").GetInt32());
            Assert.Equal(60, e.Details.GetProperty("window").GetDouble());
            Assert.True(e.Details.GetProperty("firstAt").GetDateTimeOffset() <= e.Details.GetProperty("lastAt").GetDateTimeOffset());
            Assert.StartsWith("gateway:", e.Actor, StringComparison.Ordinal);
        });
        Assert.Empty(AuditTestKit.SpoolSegments(_spool));
    }

    [Fact]
    public async Task BannedRequests_AreAggregatedAsBanBlocked_AndTheBanIsRecorded()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var config = new GatewayConfig(_upstream.Address)
            .Route("api", "/api", "tight")
            .Policy("tight", 1, "00:01:00")
            .Set("IpBans:Enabled", "true")
            .Set("IpBans:StrikesBeforeBan", "2")
            .List("IpBans:BanDurations", "00:00:30")
            .WithAudit(_spool, RabbitMqTestBroker.Port, vhost.Name)
            .Set("Audit:AggregationInterval", "00:00:00.2");
        var gateway = await GatewayServer.StartAsync(config.Values);
        var statuses = new List<HttpStatusCode>();
        try
        {
            using var client = TestClients.From("127.0.41.1", gateway.Address);
            for (var i = 0; i < 5; i++)
            {
                if (i == 3)
                {
                    await BanWaits.EnforcedAsync(gateway, "127.0.41.1");
                }

                using var response = await client.GetAsync("/api/x");
                statuses.Add(response.StatusCode);
            }

            statuses.AddRange(await AuditTestKit.BurstAsync(client, "/api/x", 50));
            statuses.AddRange(await AuditTestKit.BurstAsync(client, "/no-route", 10));
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        var events = await vhost.TakeAllAsync();

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses.Take(3));
        Assert.Equal(62, statuses.Count(s => s == HttpStatusCode.Forbidden));
        Assert.Equal(2, AuditTestKit.SumOfCounts(events, AuditEventTypes.RateLimitExceeded, "127.0.41.1"));
        Assert.Equal(62, AuditTestKit.SumOfCounts(events, AuditEventTypes.BanBlocked, "127.0.41.1"));
        var ban = Assert.Single(events, e => e.EventType == AuditEventTypes.BanIssued);
        Assert.Equal(("127.0.41.1", "tight"), (ban.ClientIp, ban.Policy));
        Assert.Equal(1, ban.Details.GetProperty("level").GetInt32());
        Assert.Equal(30, ban.Details.GetProperty("duration").GetDouble());
        Assert.Equal("auto", ban.Details.GetProperty("origin").GetString());
        Assert.Equal(2, ban.Details.GetProperty("strikes").GetInt32());
        Assert.Equal(ban.OccurredAt.AddSeconds(30), ban.Details.GetProperty("expiresAt").GetDateTimeOffset());
    }

    [Fact]
    public async Task EventsPublishedBeforeAnyConsumerRan_WaitInTheAuditQueue()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        Assert.Null(await vhost.MessageCountAsync("audit-events"));
        var config = new GatewayConfig(_upstream.Address)
            .Route("login", "/auth", "auth")
            .Policy("auth", 1, "00:01:00")
            .WithAudit(_spool, RabbitMqTestBroker.Port, vhost.Name);
        var gateway = await GatewayServer.StartAsync(config.Values);
        HttpStatusCode[] statuses;
        try
        {
            // Declared at start, before anything is published: the queue exists, empty, with no consumer anywhere.
            Assert.True(await Eventually.TrueAsync(async () => await vhost.MessageCountAsync("audit-events") == 0));

            using var client = TestClients.From("127.0.42.1", gateway.Address);
            statuses = await AuditTestKit.BurstAsync(client, "/auth/x", 20);
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        Assert.True(await vhost.MessageCountAsync("audit-events") > 0);
        var events = await vhost.TakeAllAsync();
        Assert.Equal(19, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(19, AuditTestKit.SumOfCounts(events, AuditEventTypes.RateLimitExceeded));
    }

    [Fact]
    public async Task BrokerGoneAndBack_WhileTheGatewayRuns_EveryRejectionIsCountedOnce()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        using var proxy = new SwitchableBrokerProxy(RabbitMqTestBroker.Port);
        var config = new GatewayConfig(_upstream.Address)
            .Route("login", "/auth", "auth")
            .Policy("auth", 2, "00:01:00")
            .WithAudit(_spool, proxy.Port, vhost.Name)
            .Set("Audit:AggregationInterval", "00:00:00.2");
        var gateway = await GatewayServer.StartAsync(config.Values);
        var rejected = 0;
        async Task LoadAsync(int phase)
        {
            using var client = TestClients.From($"127.0.46.{phase}", gateway.Address);
            rejected += (await AuditTestKit.BurstAsync(client, "/auth/x", 30)).Count(s => s == HttpStatusCode.TooManyRequests);
        }

        try
        {
            await LoadAsync(1);
            Assert.True(await Eventually.TrueAsync(async () => await vhost.MessageCountAsync("audit-events") > 0));

            proxy.Cut();
            await LoadAsync(2);
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(AuditTestKit.SpoolSegments(_spool).Length > 0)));

            proxy.Restore();
            await LoadAsync(3);
            // MassTransit reconnects on its own schedule; the publisher retries and then replays the spool.
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(AuditTestKit.SpoolSegments(_spool).Length == 0), TimeSpan.FromSeconds(90)));
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        var events = await vhost.TakeAllAsync();
        Assert.Equal(84, rejected);
        // At least once: an event whose confirmation was cut off may arrive twice; the consumer keeps each id once.
        var distinct = events.DistinctBy(e => e.EventId).ToList();
        Assert.Equal(rejected, AuditTestKit.SumOfCounts(distinct, AuditEventTypes.RateLimitExceeded));
        for (var phase = 1; phase <= 3; phase++)
        {
            Assert.Equal(28, AuditTestKit.SumOfCounts(distinct, AuditEventTypes.RateLimitExceeded, $"127.0.46.{phase}"));
        }
    }

    [Fact]
    public async Task BrokerAwayAtStart_ThenBack_TheQueueIsDeclaredAndTheSpoolReplayed()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        using var proxy = new SwitchableBrokerProxy(RabbitMqTestBroker.Port);
        proxy.Cut();
        var config = new GatewayConfig(_upstream.Address)
            .Route("login", "/auth", "auth")
            .Policy("auth", 2, "00:01:00")
            .WithAudit(_spool, proxy.Port, vhost.Name)
            .Set("Audit:AggregationInterval", "00:00:00.2");
        var gateway = await GatewayServer.StartAsync(config.Values);
        int rejected;
        try
        {
            using var client = TestClients.From("127.0.47.1", gateway.Address);
            rejected = (await AuditTestKit.BurstAsync(client, "/auth/x", 25)).Count(s => s == HttpStatusCode.TooManyRequests);
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(AuditTestKit.SpoolSegments(_spool).Length > 0)));
            Assert.Null(await vhost.MessageCountAsync("audit-events"));

            proxy.Restore();
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(AuditTestKit.SpoolSegments(_spool).Length == 0), TimeSpan.FromSeconds(90)));
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        var events = await vhost.TakeAllAsync();
        Assert.Equal(23, rejected);
        Assert.Equal(rejected, AuditTestKit.SumOfCounts(events.DistinctBy(e => e.EventId), AuditEventTypes.RateLimitExceeded));
    }
}
