using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.IpBans;
using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>
/// Changing a ban moves what depends on its end (the client's offense level), and a change never brings back a ban
/// that was lifted while it was being made.
/// </summary>
public sealed class AdminBanChangeTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private static readonly TimeSpan ForgetOffensesAfter = TimeSpan.FromMinutes(5);

    /// <summary>1 request a minute; 3 strikes earn a 30 s ban; the level is forgotten 5 min after a ban ends.</summary>
    private GatewayConfig Config() => new GatewayConfig(fixture.Upstream.Address)
        .Route("api", "/api", "tight")
        .Policy("tight", 1, "00:01:00")
        .Set("IpBans:Enabled", "true")
        .Set("IpBans:StrikesBeforeBan", "3")
        .Set("IpBans:StrikeWindow", "00:01:00")
        .Set("IpBans:ForgetOffensesAfter", "00:05:00")
        .List("IpBans:BanDurations", "00:00:30")
        .WithAdminKeys();

    [Fact]
    public async Task ChangingAnAutomaticBan_MovesWhenTheOffenseLevelIsForgotten()
    {
        var config = Config();
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);
        using var client = TestClients.From("127.0.42.1", gateway.Address);
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var offense = RedisKeys.OffenseLevel(config.KeyPrefix, "127.0.42.1");
        var db = redis.GetDatabase();

        for (var i = 0; i < 4; i++)
        {
            (await client.GetAsync("/api/x")).Dispose();
        }

        await BanWaits.EnforcedAsync(gateway, "127.0.42.1");
        Assert.Equal(HttpStatusCode.Forbidden, await client.GetStatusAsync("/api/x"));
        Assert.Equal(1, (long)await db.StringGetAsync(offense));
        Assert.InRange((await db.KeyTimeToLiveAsync(offense))!.Value, ForgetOffensesAfter, ForgetOffensesAfter + TimeSpan.FromSeconds(30));

        // Extended to two days: the level must outlive the new end, not the 30 s ban it was issued with.
        using (var extended = await admin.PatchJsonAsync(AdminApi.Path("127.0.42.1"), """{"duration":"2.00:00:00"}"""))
        {
            Assert.Equal(HttpStatusCode.OK, extended.StatusCode);
        }

        Assert.InRange((await db.KeyTimeToLiveAsync(offense))!.Value, TimeSpan.FromDays(2) + ForgetOffensesAfter - TimeSpan.FromSeconds(30), TimeSpan.FromDays(2) + ForgetOffensesAfter);

        // Permanent: kept as long as the ban is.
        using (var permanent = await admin.PatchJsonAsync(AdminApi.Path("127.0.42.1"), """{"expiresAt":null}"""))
        {
            Assert.Equal(HttpStatusCode.OK, permanent.StatusCode);
        }

        Assert.Null(await db.KeyTimeToLiveAsync(offense));
        Assert.True(await db.KeyExistsAsync(offense));

        // Lifted without resetting the level: the ban ended now, so the level goes ForgetOffensesAfter from now.
        using (var lifted = await admin.DeleteAsync(AdminApi.Path("127.0.42.1")))
        {
            Assert.Equal(HttpStatusCode.NoContent, lifted.StatusCode);
        }

        Assert.Equal(1, (long)await db.StringGetAsync(offense));
        Assert.InRange((await db.KeyTimeToLiveAsync(offense))!.Value, ForgetOffensesAfter - TimeSpan.FromSeconds(30), ForgetOffensesAfter);
    }

    [Fact]
    public async Task ReplacingABanThatWasLifted_WritesNothing()
    {
        var config = Config();
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        var store = gateway.Services.GetRequiredService<IBanStore>();
        var now = await store.GetTimeAsync();
        var ban = new Ban
        {
            Target = "192.0.2.77",
            Origin = BanOrigins.Manual,
            Reason = "test",
            Level = 0,
            CreatedAt = now,
            ExpiresAt = now.AddHours(1),
            CreatedBy = "test",
        };

        await store.UpsertAsync(ban, keepLonger: false);
        Assert.True(await store.ReplaceAsync(ban with { ExpiresAt = now.AddHours(2) }));
        Assert.Equal(now.AddHours(2), (await store.GetAsync("192.0.2.77"))?.ExpiresAt);

        // A change that lost the race with a lift: the ban stays lifted.
        Assert.True(await store.RemoveAsync("192.0.2.77"));
        Assert.False(await store.ReplaceAsync(ban with { ExpiresAt = now.AddDays(1) }));
        Assert.Null(await store.GetAsync("192.0.2.77"));
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        Assert.False(await redis.GetDatabase().HashExistsAsync(RedisKeys.BanData(config.KeyPrefix), "192.0.2.77"));
        Assert.Null(await redis.GetDatabase().SortedSetScoreAsync(RedisKeys.BanExpiry(config.KeyPrefix), "192.0.2.77"));

        // So is one that ended on its own.
        await store.UpsertAsync(ban with { Target = "192.0.2.78", ExpiresAt = now.AddMilliseconds(-1) }, keepLonger: false);
        Assert.False(await store.ReplaceAsync(ban with { Target = "192.0.2.78", ExpiresAt = now.AddDays(1) }));
    }
}
