using System.Diagnostics;
using System.Net;
using MdvGateway.Gateway.FunctionalTests.Admin;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace MdvGateway.Gateway.FunctionalTests.Resilience;

/// <summary>
/// Redis dies (SIGKILL) or hangs (SIGSTOP) under concurrent load and comes back: no 5xx, no request held much past
/// <c>Redis:TimeoutMs</c>, <c>WhenStoreUnavailable</c> in force meanwhile, known bans still enforced, and distributed
/// limits back within 15 s. Each run has a redis-server of its own; the shared one is never touched.
/// </summary>
[Collection(ResilienceTests.Name)]
public sealed class RedisOutageTests(UpstreamFixture fixture, ITestOutputHelper output) : IClassFixture<UpstreamFixture>
{
    private const int TimeoutMs = 250;
    private const int ProbeLimit = 10;
    private const string Banned = "127.0.61.9";
    private const string WarmUp = "warm-up";

    /// <summary>
    /// A correctness bound, not a performance target: a request that waited on Redis past its timeout (queued behind a
    /// dead connection, a connect attempt on the request path) would take seconds more; a busy CI machine does not.
    /// </summary>
    private static readonly TimeSpan LongestAcceptableRequest = TimeSpan.FromMilliseconds(TimeoutMs) + TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData("FallbackToLocal", RedisOutage.Killed)]
    [InlineData("Allow", RedisOutage.Killed)]
    [InlineData("FallbackToLocal", RedisOutage.Hung)]
    public async Task RedisLostUnderLoad_NoServerErrorNoLongWait_FallbackThenDistributedAgain(string whenStoreUnavailable, RedisOutage outage)
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "bulk")
            .Policy("bulk", 40, "00:00:01")
            .Route("probe", "/probe", "probe")
            .Policy("probe", ProbeLimit, "00:01:00")
            .Set("Redis:Configuration", redis.Endpoint)
            .Set("Redis:TimeoutMs", TimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Set("Redis:BreakAfterFailures", "3")
            .Set("Redis:BreakDuration", "00:00:01")
            .Set("RateLimiting:WhenStoreUnavailable", whenStoreUnavailable)
            .Set("IpBans:Enabled", "true")
            // Strikes are not what this test is about: the load clients are allowlisted, the probes never reach 100000.
            .Set("IpBans:StrikesBeforeBan", "100000")
            .List("IpBans:Allowlist", "127.0.60.0/24")
            .WithAdminKeys();
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, AdminKeys.Writer);
        using (var ban = await admin.BanAsync(Banned, "01:00:00", "resilience test"))
        {
            Assert.Equal(HttpStatusCode.Created, ban.StatusCode);
        }

        using var banned = TestClients.From(Banned, gateway.Address);
        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(banned, "/api/x", HttpStatusCode.Forbidden));

        var timings = new List<TimeSpan>();
        var loadClients = Enumerable.Range(1, 8).Select(i => $"127.0.60.{i}");
        await using var load = new ClientLoad(gateway.Address, loadClients, workersPerClient: 2, "/api/load", TimeSpan.FromMilliseconds(5));
        // The first requests of a fresh process pay for JIT and connection set-up: checked for errors, not timed.
        load.Start(WarmUp);
        await Task.Delay(TimeSpan.FromSeconds(0.5));
        load.Phase = "redis-up";
        await Task.Delay(TimeSpan.FromSeconds(1));

        if (outage == RedisOutage.Killed)
        {
            await redis.KillAsync();
        }
        else
        {
            await redis.FreezeAsync();
        }

        load.Phase = "redis-down";

        // A client new to this node, over its limit while Redis is away: WhenStoreUnavailable decides every request.
        var duringOutage = await ProbeAsync(gateway.Address, "127.0.61.1", timings);

        // Known bans hold for the whole outage, circuit closed, open and half-open alike.
        var bannedDuringOutage = new List<HttpStatusCode>();
        var outageEnds = DateTime.UtcNow + TimeSpan.FromSeconds(3);
        while (DateTime.UtcNow < outageEnds)
        {
            bannedDuringOutage.Add(await TimedStatusAsync(banned, "/api/x", timings));
            await Task.Delay(100);
        }

        if (outage == RedisOutage.Killed)
        {
            await redis.RestartAsync();
        }
        else
        {
            await redis.ThawAsync();
        }

        load.Phase = "redis-back";
        var back = Stopwatch.GetTimestamp();

        // Resumed = a new client's request lands in this Redis's sliding window.
        var n = 0;
        var resumed = await Eventually.TrueAsync(
            async () =>
            {
                var client = $"127.0.63.{++n}";
                using var http = TestClients.From(client, gateway.Address);
                await TimedStatusAsync(http, "/probe/x", timings);
                return await redis.KeyExistsAsync(WindowKey(config, client));
            },
            TimeSpan.FromSeconds(20));
        var resumedAfter = Stopwatch.GetElapsedTime(back);

        var afterOutage = await ProbeAsync(gateway.Address, "127.0.62.1", timings);
        await using var check = await redis.ConnectAsync();
        var afterWindow = await RateLimitWindows.CountAsync(check.GetDatabase(), WindowKey(config, "127.0.62.1"));
        await Task.Delay(TimeSpan.FromSeconds(0.5));
        await load.StopAsync();

        var records = load.Records.ToList();
        var summary = load.Summary();
        var slowest = records.Where(r => r.Phase != WarmUp).Select(r => r.Duration).Concat(timings).Max();
        var slowestByPhase = string.Join(", ", records.GroupBy(r => r.Phase).Select(g => $"{g.Key} {g.Max(r => r.Duration).TotalMilliseconds:F0} ms"));
        output.WriteLine($"{whenStoreUnavailable}/{outage}: {summary}; slowest {slowest.TotalMilliseconds:F0} ms ({slowestByPhase}); distributed again {resumedAfter.TotalSeconds:F1} s after Redis returned");

        // No 5xx and no failed request anywhere, in any phase.
        Assert.All(records, r => Assert.True(r.Failure == RequestFailure.None && (int)r.Status! < 500, $"{r.Phase} {r.Client}: {r.Status} {r.Failure} {r.Error} ({summary})"));
        Assert.All(records, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"{r.Phase}: {r.Status} ({summary})"));
        foreach (var phase in new[] { "redis-up", "redis-down", "redis-back" })
        {
            Assert.True(records.Count(r => r.Phase == phase) >= 20, $"too little load in {phase}: {summary}");
        }

        // Nobody waited on Redis much past the timeout.
        Assert.True(slowest <= LongestAcceptableRequest, $"a request took {slowest.TotalMilliseconds:F0} ms; bound {LongestAcceptableRequest.TotalMilliseconds:F0} ms ({summary})");

        var limited = Enumerable.Repeat(HttpStatusCode.OK, ProbeLimit).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, ProbeLimit)).ToList();
        Assert.Equal(whenStoreUnavailable == "Allow" ? Enumerable.Repeat(HttpStatusCode.OK, 2 * ProbeLimit).ToList() : limited, duringOutage);
        Assert.All(bannedDuringOutage, s => Assert.Equal(HttpStatusCode.Forbidden, s));
        Assert.NotEmpty(bannedDuringOutage);

        Assert.True(resumed, $"distributed limiting did not resume within 20 s of Redis's return ({summary})");
        Assert.True(resumedAfter <= TimeSpan.FromSeconds(15), $"distributed limiting resumed only after {resumedAfter.TotalSeconds:F1} s");
        Assert.Equal(limited, afterOutage);
        Assert.Equal(ProbeLimit, afterWindow);
    }

    private static string WindowKey(GatewayConfig config, string client) => RateLimitWindows.Key(config.KeyPrefix, "probe", "probe", client);

    /// <summary>Twice the probe policy's limit, one after the other, from a client that sent nothing before.</summary>
    private static async Task<List<HttpStatusCode>> ProbeAsync(string gateway, string client, List<TimeSpan> timings)
    {
        using var http = TestClients.From(client, gateway);
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 2 * ProbeLimit; i++)
        {
            statuses.Add(await TimedStatusAsync(http, "/probe/x", timings));
        }

        return statuses;
    }

    private static async Task<HttpStatusCode> TimedStatusAsync(HttpClient client, string path, List<TimeSpan> timings)
    {
        var started = Stopwatch.GetTimestamp();
        var status = await client.GetStatusAsync(path);
        timings.Add(Stopwatch.GetElapsedTime(started));
        return status;
    }
}

/// <summary>How Redis goes away in <see cref="RedisOutageTests"/>.</summary>
public enum RedisOutage
{
    /// <summary>SIGKILL, then a new, empty server on the same port.</summary>
    Killed,

    /// <summary>SIGSTOP, then SIGCONT: connections stay open and silent, so every command runs into the timeout.</summary>
    Hung,
}
