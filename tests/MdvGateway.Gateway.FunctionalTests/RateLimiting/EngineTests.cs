using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.IpBans;
using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.RateLimiting;

/// <summary>The engine's promises that only real Redis shows: bounded memory, strikes summed over nodes, the breaker per call.</summary>
public sealed class EngineTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    [Fact]
    public async Task LimitOf100000ADay_KeepsAFewCounters_NotAnEntryPerRequest()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "daily").Policy("daily", 100_000, "1.00:00:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.78.1", gateway.Address, maxConnections: 16);

        var statuses = await Task.WhenAll(Enumerable.Range(0, 400).Select(_ => client.GetStatusAsync("/api/x")));
        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));

        var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await using var _ = redis;
        var key = RateLimitWindows.Key(config.KeyPrefix, "daily", "daily", "127.0.78.1");
        Assert.True(await Eventually.TrueAsync(async () => await RateLimitWindows.CountAsync(redis.GetDatabase(), key) == 400), "the window does not hold exactly the admitted requests");
        Assert.InRange(await redis.GetDatabase().HashLengthAsync(key), 1, Gateway.RateLimiting.WindowLayout.SubWindows + 2);
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync(key);
        Assert.NotNull(ttl);
        Assert.InRange(ttl.Value, TimeSpan.FromHours(23.9), Gateway.RateLimiting.WindowLayout.LongestHold(TimeSpan.FromDays(1)));
    }

    [Fact]
    public async Task StrikesSpreadOverTwoNodes_BanOnce_AtExactlyStrikesBeforeBan()
    {
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "tight")
            .Policy("tight", 1, "00:01:00")
            .Set("IpBans:Enabled", "true")
            .Set("IpBans:StrikesBeforeBan", "6")
            .Set("IpBans:StrikeWindow", "00:01:00")
            .List("IpBans:BanDurations", "00:05:00");
        await using var first = await GatewayServer.StartAsync(config.Values);
        await using var second = await GatewayServer.StartAsync(config.Values);
        using var toFirst = TestClients.From("127.0.78.2", first.Address);
        using var toSecond = TestClients.From("127.0.78.2", second.Address);

        // One admitted, then five strikes: not yet a ban on either node, wherever they were counted.
        for (var i = 0; i < 6; i++)
        {
            await (i % 2 == 0 ? toFirst : toSecond).GetStatusAsync("/api/x");
        }

        await Task.Delay(StrikeRecorder.FlushInterval * 4);
        var store = first.Services.GetRequiredService<IBanStore>();
        Assert.Null(await store.GetAsync("127.0.78.2"));

        // The sixth strike, on the other node, bans: one ban, level 1, six strikes.
        Assert.Equal(HttpStatusCode.TooManyRequests, await toSecond.GetStatusAsync("/api/x"));
        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(toSecond, "/api/x", HttpStatusCode.Forbidden, TimeSpan.FromSeconds(1)));
        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(toFirst, "/api/x", HttpStatusCode.Forbidden, TimeSpan.FromSeconds(1)));
        var ban = await store.GetAsync("127.0.78.2");
        Assert.NotNull(ban);
        Assert.Equal(1, ban.Level);
        Assert.Equal(6, ban.Strikes);

        var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await using var _ = redis;
        Assert.Equal(1, (long)await redis.GetDatabase().StringGetAsync(RedisKeys.OffenseLevel(config.KeyPrefix, "127.0.78.2")));
        var offenders = await first.Services.GetRequiredService<IBanStore>().GetOffendersAsync(10);
        Assert.Contains(offenders, o => o.Client == "127.0.78.2" && o.Level == 1);
    }

    [Fact]
    public async Task OneHungCall_ForManyQueuedRequests_IsOneBreakerFailure_NotOnePerRequest()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "roomy")
            .Policy("roomy", 100_000, "00:01:00")
            .Set("Redis:Configuration", redis.Endpoint)
            .Set("Redis:TimeoutMs", "300")
            .Set("Redis:BreakAfterFailures", "3")
            .Set("RateLimiting:WhenStoreUnavailable", "Allow");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.78.3", gateway.Address, maxConnections: 40);
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/api/warm-up"));

        // While Redis hangs, 40 requests arrive together: one call goes out, the others queue behind it and use up
        // their budget there. Every request is answered (Allow); the breaker heard of one failed call, not 40.
        await redis.FreezeAsync();
        HttpStatusCode[] statuses;
        try
        {
            statuses = await Task.WhenAll(Enumerable.Range(0, 40).Select(i => client.GetStatusAsync("/api/x" + i)));
        }
        finally
        {
            await redis.ThawAsync();
        }

        Assert.All(statuses, s => Assert.Equal(HttpStatusCode.OK, s));
        Assert.Equal(CircuitState.Closed, gateway.Services.GetRequiredService<RedisCircuitBreaker>().State);
    }
}
