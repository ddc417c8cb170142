using System.Net;
using System.Text.Json;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.IpBans;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.IpBans;

public sealed class BanTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamServer _upstream = fixture.Upstream;

    /// <summary>1 request a minute, so every further request is a strike; 3 strikes ban.</summary>
    private GatewayConfig BanConfig(params string[] ladder)
        => new GatewayConfig(_upstream.Address)
            .Route("api", "/api", "tight")
            .Route("open", "/open", "Disable")
            .Policy("tight", 1, "00:01:00")
            .Set("IpBans:Enabled", "true")
            .Set("IpBans:StrikesBeforeBan", "3")
            .Set("IpBans:StrikeWindow", "00:01:00")
            .List("IpBans:BanDurations", ladder.Length > 0 ? ladder : ["00:00:30"]);

    private static async Task<HttpResponseMessage[]> SendAsync(HttpClient client, string path, int count)
    {
        var responses = new HttpResponseMessage[count];
        for (var i = 0; i < count; i++)
        {
            responses[i] = await client.GetAsync(path);
        }

        return responses;
    }

    /// <summary>
    /// How soon a ban earned on a node must be enforced there (DESIGN.md promises 250 ms; the margin is for a shared
    /// machine, not for the design).
    /// </summary>
    private static readonly TimeSpan BanAppliesWithin = TimeSpan.FromSeconds(1);

    /// <summary>The ban of <paramref name="target"/> at <paramref name="level"/>, once the node has issued it.</summary>
    private static async Task<Ban> BannedAsync(IBanStore store, string target, int level = 1)
    {
        Ban? ban = null;
        Assert.True(await Eventually.TrueAsync(async () => (ban = await store.GetAsync(target))?.Level == level, BanAppliesWithin), $"{target} was not banned at level {level} in time");
        return ban!;
    }

    [Fact]
    public async Task Strikes_ReachingThreshold_AreAnswered429ThenBanWithin250Ms()
    {
        var config = BanConfig();
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.10.1", gateway.Address);

        var responses = await SendAsync(client, "/api/x", 4);

        // 1 admitted, 3 strikes answered 429 (the third earns the ban), then banned: the first refusal's strike was
        // counted by the call that refused it, the next two on this node (refused from its over-limit cache) and flushed.
        Assert.Equal(
            [HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests],
            responses.Select(r => r.StatusCode));
        using var banned = await Eventually.GetAsync(client, "/api/x", r => r.StatusCode == HttpStatusCode.Forbidden, BanAppliesWithin);
        Assert.Equal(HttpStatusCode.Forbidden, banned.StatusCode);
        Assert.Equal("application/problem+json", banned.Content.Headers.ContentType?.MediaType);
        Assert.InRange(banned.Headers.RetryAfter!.Delta!.Value.TotalSeconds, 25, 30);
        using var body = JsonDocument.Parse(await banned.Content.ReadAsStringAsync());
        Assert.Equal("urn:mdvgateway:problem:banned", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(403, body.RootElement.GetProperty("status").GetInt32());
        var until = body.RootElement.GetProperty("bannedUntil").GetDateTimeOffset();
        Assert.InRange(until - DateTimeOffset.UtcNow, TimeSpan.FromSeconds(20), TimeSpan.FromSeconds(31));

        // Banned everywhere on the public listener: a route without limits and a path no route matches.
        Assert.Equal(HttpStatusCode.Forbidden, await client.GetStatusAsync("/open/x"));
        Assert.Equal(HttpStatusCode.Forbidden, await client.GetStatusAsync("/no-such-route"));
        // ... but the admin listener does not enforce public bans.
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/health/live")).StatusCode);

        var ban = await BannedAsync(gateway.Services.GetRequiredService<IBanStore>(), "127.0.10.1");
        Assert.Equal("auto", ban.Origin);
        Assert.Equal(1, ban.Level);
        Assert.Equal("tight", ban.Policy);
        Assert.Equal(3, ban.Strikes);
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task BannedClient_NeverReachesTheUpstream()
    {
        var config = BanConfig();
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.10.2", gateway.Address);
        foreach (var r in await SendAsync(client, "/api/x", 4))
        {
            r.Dispose();
        }

        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(client, "/api/x", HttpStatusCode.Forbidden, BanAppliesWithin));
        var marker = "/open/" + config.KeyPrefix;
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.Forbidden, await client.GetStatusAsync(marker));
        }

        Assert.DoesNotContain(_upstream.Requests, r => r.Path == marker);
    }

    [Fact]
    public async Task Ladder_EscalatesWithEachBan_AndTheLastRungRepeats()
    {
        var config = BanConfig("00:00:01", "00:00:02");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        var store = gateway.Services.GetRequiredService<IBanStore>();
        using var client = TestClients.From("127.0.10.3", gateway.Address);

        var levels = new List<(int Level, TimeSpan Duration)>();
        for (var round = 0; round < 3; round++)
        {
            // Rate-limited for the whole minute: three more strikes ban again.
            foreach (var r in await SendAsync(client, "/api/x", round == 0 ? 4 : 3))
            {
                r.Dispose();
            }

            var ban = await BannedAsync(store, "127.0.10.3", round + 1);
            levels.Add((ban.Level, ban.ExpiresAt!.Value - ban.CreatedAt));
            Assert.Equal(HttpStatusCode.Forbidden, await client.GetStatusAsync("/api/x"));
            Assert.True(await Eventually.TrueAsync(async () => await client.GetStatusAsync("/open/x") == HttpStatusCode.OK, TimeSpan.FromSeconds(5)));
        }

        Assert.Equal([(1, TimeSpan.FromSeconds(1)), (2, TimeSpan.FromSeconds(2)), (3, TimeSpan.FromSeconds(2))], levels);
    }

    [Fact]
    public async Task OffenseLevel_FallsBackToZero_AfterForgetOffensesAfterWithoutABan()
    {
        var config = BanConfig("00:00:01", "00:01:00").Set("IpBans:ForgetOffensesAfter", "00:00:01");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        var store = gateway.Services.GetRequiredService<IBanStore>();
        using var client = TestClients.From("127.0.10.4", gateway.Address);

        foreach (var r in await SendAsync(client, "/api/x", 4))
        {
            r.Dispose();
        }

        Assert.Equal(1, (await BannedAsync(store, "127.0.10.4")).Level);

        // The 1 s ban ends, then 1 s passes without a ban: the next ban starts the ladder again.
        await Task.Delay(TimeSpan.FromSeconds(2.5));
        foreach (var r in await SendAsync(client, "/api/x", 3))
        {
            r.Dispose();
        }

        var again = await BannedAsync(store, "127.0.10.4");
        Assert.Equal(1, again.Level);
        Assert.Equal(TimeSpan.FromSeconds(1), again.ExpiresAt!.Value - again.CreatedAt);
    }

    [Fact]
    public async Task AllowlistedClient_IsRateLimitedButNeverBanned()
    {
        var config = BanConfig().List("IpBans:Allowlist", "127.0.10.5");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.10.5", gateway.Address);

        var responses = await SendAsync(client, "/api/x", 12);

        Assert.Equal(HttpStatusCode.OK, responses[0].StatusCode);
        Assert.All(responses.Skip(1), r => Assert.Equal(HttpStatusCode.TooManyRequests, r.StatusCode));
        Assert.Null(await gateway.Services.GetRequiredService<IBanStore>().GetAsync("127.0.10.5"));
        foreach (var response in responses)
        {
            response.Dispose();
        }
    }

    [Fact]
    public async Task IPv6Client_IsBannedByPrefix_CoveringAnotherAddressInTheSame64()
    {
        var config = BanConfig().List("ClientIp:TrustedProxies", "127.0.10.6");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var proxy = TestClients.From("127.0.10.6", gateway.Address);

        for (var i = 0; i < 4; i++)
        {
            await proxy.GetStatusAsync("/api/x", "2001:db8:aa:bb::1");
        }

        await BannedAsync(gateway.Services.GetRequiredService<IBanStore>(), "2001:db8:aa:bb::/64");
        Assert.Equal(HttpStatusCode.Forbidden, await proxy.GetStatusAsync("/open/x", "2001:db8:aa:bb:ffff::9"));
        Assert.Equal(HttpStatusCode.OK, await proxy.GetStatusAsync("/open/x", "2001:db8:aa:bc::1"));
    }

    [Fact]
    public async Task ManualCidrBan_CoversItsMembers_OnEveryNode_AndUnbanLiftsItEverywhere()
    {
        var config = BanConfig();
        await using var first = await GatewayServer.StartAsync(config.Values);
        await using var second = await GatewayServer.StartAsync(config.Values);
        using var toFirst = TestClients.From("127.0.11.7", first.Address);
        using var toSecond = TestClients.From("127.0.11.200", second.Address);
        using var outsider = TestClients.From("127.0.12.1", second.Address);
        using var secondAdmin = new HttpClient { BaseAddress = new Uri(second.AdminAddress) };
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(secondAdmin, "/health/ready", HttpStatusCode.OK));
        var store = first.Services.GetRequiredService<IBanStore>();

        await store.UpsertAsync(
            new Ban { Target = "127.0.11.0/24", Origin = "manual", Reason = "test", CreatedAt = DateTimeOffset.UtcNow, ExpiresAt = null, CreatedBy = "test" },
            keepLonger: false);

        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(toFirst, "/open/x", HttpStatusCode.Forbidden, TimeSpan.FromSeconds(1)));
        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(toSecond, "/open/x", HttpStatusCode.Forbidden, TimeSpan.FromSeconds(1)));
        Assert.Equal(HttpStatusCode.OK, await outsider.GetStatusAsync("/open/x"));
        using (var permanent = await toSecond.GetAsync("/open/x"))
        {
            Assert.Null(permanent.Headers.RetryAfter);
            Assert.Contains("\"bannedUntil\":null", await permanent.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        Assert.True(await store.RemoveAsync("127.0.11.0/24"));

        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(toFirst, "/open/x", HttpStatusCode.OK, TimeSpan.FromSeconds(1)));
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(toSecond, "/open/x", HttpStatusCode.OK, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task AutomaticBan_OnOneNode_IsEnforcedByTheOtherWithinOneSecond()
    {
        var config = BanConfig();
        await using var first = await GatewayServer.StartAsync(config.Values);
        await using var second = await GatewayServer.StartAsync(config.Values);
        using var secondAdmin = new HttpClient { BaseAddress = new Uri(second.AdminAddress) };
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(secondAdmin, "/health/ready", HttpStatusCode.OK));
        using var toFirst = TestClients.From("127.0.10.8", first.Address);
        using var toSecond = TestClients.From("127.0.10.8", second.Address);

        foreach (var r in await SendAsync(toFirst, "/api/x", 4))
        {
            r.Dispose();
        }

        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(toSecond, "/open/x", HttpStatusCode.Forbidden, TimeSpan.FromSeconds(1)));
    }

    [Fact]
    public async Task BanCache_ResynchronisesAfterItsRedisConnectionDrops()
    {
        // A connection name of its own (its connections are named <name> and <name>-bg), so that only this gateway's
        // connections are dropped below.
        var config = BanConfig();
        var connectionName = "gw-" + config.KeyPrefix;
        config.Set("Redis:Configuration", $"{TestEnvironment.Redis},name={connectionName}");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(admin, "/health/ready", HttpStatusCode.OK));
        using var client = TestClients.From("127.0.10.9", gateway.Address);
        var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis + ",allowAdmin=true");
        await using var _ = redis;
        var db = redis.GetDatabase();

        // A ban whose announcement this node never hears (as if published while it was disconnected) ...
        var ban = new Ban { Target = "127.0.10.9", Origin = "manual", Reason = "missed", CreatedAt = DateTimeOffset.UtcNow, ExpiresAt = DateTimeOffset.UtcNow.AddMinutes(5), CreatedBy = "test" };
        await db.HashSetAsync($"{config.KeyPrefix}:{{bans}}:data", ban.Target, JsonSerializer.Serialize(ban, BanJson.Default.Ban));
        await db.SortedSetAddAsync($"{config.KeyPrefix}:{{bans}}:expiry", ban.Target, ban.ExpiresAt.Value.ToUnixTimeMilliseconds());
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/open/x"));

        // ... is picked up when the connection comes back, well before the periodic resynchronisation.
        var server = redis.GetServer(redis.GetEndPoints()[0]);
        var ours = (await server.ClientListAsync()).Where(c => c.Name?.StartsWith(connectionName, StringComparison.Ordinal) == true).ToList();
        Assert.NotEmpty(ours);
        foreach (var connection in ours)
        {
            await server.ClientKillAsync(connection.Id, skipMe: true);
        }

        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(client, "/open/x", HttpStatusCode.Forbidden, BanSynchronizer.ResyncInterval / 2));
    }
}
