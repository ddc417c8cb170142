using System.Net;
using System.Text;
using System.Text.Json;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.IpBans;
using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

public sealed class AdminBanWriteTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private GatewayConfig Config() => new GatewayConfig(fixture.Upstream.Address).Route("open", "/open", "Disable").WithAdminKeys();

    [Fact]
    public async Task Post_ManualBan_IsStoredDatedByRedisAndSignedByTheKeyName()
    {
        await using var gateway = await AdminGateway.StartAsync(Config().Values);
        using var admin = new AdminApi(gateway, AdminKeys.Writer);
        var store = gateway.Services.GetRequiredService<IBanStore>();
        var before = await store.GetTimeAsync();

        using var response = await admin.BanAsync("203.0.113.0/24", "01:30:00", "port scan");
        var ban = await AdminApi.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("/admin/bans/203.0.113.0%2F24", response.Headers.Location?.OriginalString);
        Assert.Equal("203.0.113.0/24", ban.GetProperty("target").GetString());
        Assert.Equal("manual", ban.GetProperty("origin").GetString());
        Assert.Equal(0, ban.GetProperty("level").GetInt32());
        Assert.Equal("writer", ban.GetProperty("createdBy").GetString());
        Assert.Equal("port scan", ban.GetProperty("reason").GetString());
        var createdAt = ban.GetProperty("createdAt").GetDateTimeOffset();
        Assert.InRange(createdAt, before, before.AddSeconds(5));
        Assert.Equal(createdAt.AddMinutes(90), ban.GetProperty("expiresAt").GetDateTimeOffset());

        var stored = await store.GetAsync("203.0.113.0/24");
        Assert.NotNull(stored);
        Assert.Equal("writer", stored.CreatedBy);

        using var reader = new AdminApi(gateway, AdminKeys.Reader);
        using var location = await reader.GetAsync(response.Headers.Location!.OriginalString);
        Assert.Equal(HttpStatusCode.OK, location.StatusCode);
    }

    [Fact]
    public async Task Post_PermanentBanOfAnIpv6Address_BansItsClientPrefix()
    {
        await using var gateway = await AdminGateway.StartAsync(Config().Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);

        using var response = await admin.BanAsync("2001:db8:aa:bb:1:2:3:4", null, "abuse");
        var ban = await AdminApi.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal("2001:db8:aa:bb::/64", ban.GetProperty("target").GetString());
        Assert.Equal(JsonValueKind.Null, ban.GetProperty("expiresAt").ValueKind);
        using var get = await admin.GetAsync(AdminApi.Path("2001:db8:aa:bb::ffff"));
        Assert.Equal(HttpStatusCode.OK, get.StatusCode);
    }

    [Fact]
    public async Task Patch_ExtendsAndShortensAndEnforcementFollows()
    {
        await using var gateway = await AdminGateway.StartAsync(Config().Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);
        using var client = TestClients.From("127.0.41.1", gateway.Address);
        var store = gateway.Services.GetRequiredService<IBanStore>();
        (await admin.BanAsync("127.0.41.1", "00:10:00")).Dispose();
        using (var banned = await client.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, banned.StatusCode);
        }

        // Extend by a duration counted from now.
        var now = await store.GetTimeAsync();
        using var extended = await admin.PatchJsonAsync(AdminApi.Path("127.0.41.1"), """{"duration":"2.00:00:00"}""");
        Assert.Equal(HttpStatusCode.OK, extended.StatusCode);
        Assert.InRange((await AdminApi.ReadJsonAsync(extended)).GetProperty("expiresAt").GetDateTimeOffset(), now.AddDays(2), now.AddDays(2).AddSeconds(5));
        Assert.InRange((await store.GetAsync("127.0.41.1"))!.ExpiresAt!.Value, now.AddDays(2), now.AddDays(2).AddSeconds(5));

        // Permanent, then back to an instant.
        using var permanent = await admin.PatchJsonAsync(AdminApi.Path("127.0.41.1"), """{"expiresAt":null}""");
        Assert.Equal(JsonValueKind.Null, (await AdminApi.ReadJsonAsync(permanent)).GetProperty("expiresAt").ValueKind);

        // Shorten to an instant two seconds away: the ban then ends on its own.
        var end = (await store.GetTimeAsync()).AddSeconds(2);
        using var shortened = await admin.PatchJsonAsync(AdminApi.Path("127.0.41.1"), JsonSerializer.Serialize(new { expiresAt = end.ToString("O", System.Globalization.CultureInfo.InvariantCulture) }));
        var shortBan = await AdminApi.ReadJsonAsync(shortened);
        Assert.Equal(HttpStatusCode.OK, shortened.StatusCode);
        Assert.Equal(end, shortBan.GetProperty("expiresAt").GetDateTimeOffset());
        Assert.Equal("manual", shortBan.GetProperty("origin").GetString());
        using (var stillBanned = await client.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, stillBanned.StatusCode);
            Assert.InRange(stillBanned.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 3);
        }

        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(client, "/open/x", HttpStatusCode.OK, TimeSpan.FromSeconds(5)));

        using var gone = await admin.PatchJsonAsync(AdminApi.Path("127.0.41.1"), """{"duration":"01:00:00"}""");
        await AdminApi.AssertProblemAsync(gone, 404);
    }

    [Fact]
    public async Task Delete_LiftsTheBanAndStrikes_KeepsTheOffenseLevelUnlessReset()
    {
        var config = Config()
            .Route("api", "/api", "tight")
            .Policy("tight", 1, "00:01:00")
            .Set("IpBans:Enabled", "true")
            .Set("IpBans:StrikesBeforeBan", "2")
            .List("IpBans:BanDurations", "00:10:00");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);
        using var client = TestClients.From("127.0.42.1", gateway.Address);
        var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await using var _ = redis;
        var db = redis.GetDatabase();
        var offenseKey = RedisKeys.OffenseLevel(config.KeyPrefix, "127.0.42.1");
        var strikesKey = RedisKeys.Strikes(config.KeyPrefix, "127.0.42.1");

        // 1 admitted, 2 rejected (= 2 strikes = first automatic ban), then banned.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var r = await client.GetAsync("/api/x");
            statuses.Add(r.StatusCode);
        }

        await BanWaits.EnforcedAsync(gateway, "127.0.42.1");
        statuses.Add(await client.GetStatusAsync("/api/x"));
        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests, HttpStatusCode.Forbidden], statuses);
        Assert.Equal(1, (int)await db.StringGetAsync(offenseKey));
        using (var offenders = await admin.GetAsync("/admin/offenders?top=10"))
        {
            var offender = (await AdminApi.ReadJsonAsync(offenders)).GetProperty("items").EnumerateArray().Single(o => o.GetProperty("client").GetString() == "127.0.42.1");
            Assert.Equal(1, offender.GetProperty("level").GetInt32());
        }

        using (var lifted = await admin.DeleteAsync("/admin/bans/127.0.42.1"))
        {
            Assert.Equal(HttpStatusCode.NoContent, lifted.StatusCode);
        }

        Assert.Equal(1, (int)await db.StringGetAsync(offenseKey));
        using (var again = await client.GetAsync("/api/x"))
        {
            // No longer banned; still over its rate limit, which is one more strike.
            Assert.Equal(HttpStatusCode.TooManyRequests, again.StatusCode);
        }

        // Refused from the node's over-limit cache: its strike reaches Redis with the next flush.
        Assert.True(await Eventually.TrueAsync(async () => await db.SortedSetLengthAsync(strikesKey) == 1), "the strike never reached Redis");

        // A manual ban on top; lifting it clears the strike but still keeps the level.
        (await admin.BanAsync("127.0.42.1", "01:00:00")).Dispose();
        using (var lifted = await admin.DeleteAsync("/admin/bans/127.0.42.1?resetLevel=false"))
        {
            Assert.Equal(HttpStatusCode.NoContent, lifted.StatusCode);
        }

        Assert.False(await db.KeyExistsAsync(strikesKey));
        Assert.Equal(1, (int)await db.StringGetAsync(offenseKey));

        (await admin.BanAsync("127.0.42.1", "01:00:00")).Dispose();
        using (var reset = await admin.DeleteAsync("/admin/bans/127.0.42.1?resetLevel=true"))
        {
            Assert.Equal(HttpStatusCode.NoContent, reset.StatusCode);
        }

        Assert.False(await db.KeyExistsAsync(offenseKey));
        using (var offenders = await admin.GetAsync("/admin/offenders"))
        {
            Assert.DoesNotContain((await AdminApi.ReadJsonAsync(offenders)).GetProperty("items").EnumerateArray(), o => o.GetProperty("client").GetString() == "127.0.42.1");
        }

        using var missing = await admin.DeleteAsync("/admin/bans/127.0.42.1");
        await AdminApi.AssertProblemAsync(missing, 404);
    }

    [Fact]
    public async Task Offenders_ListsClientsWithStrikesAndLevel()
    {
        var config = Config().Route("api", "/api", "tight").Policy("tight", 1, "00:01:00")
            .Set("IpBans:Enabled", "true").Set("IpBans:StrikesBeforeBan", "100");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, AdminKeys.Reader);
        using var first = TestClients.From("127.0.43.1", gateway.Address);
        using var second = TestClients.From("127.0.43.2", gateway.Address);
        for (var i = 0; i < 4; i++)
        {
            (await first.GetAsync("/api/x")).Dispose();
        }

        // Two of the three strikes were refused from the node's over-limit cache: they reach Redis with the next flush,
        // which is when Redis dates them.
        var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await using (redis)
        {
            var strikes = Gateway.Redis.RedisKeys.Strikes(config.KeyPrefix, "127.0.43.1");
            Assert.True(await Eventually.TrueAsync(async () => await redis.GetDatabase().SortedSetLengthAsync(strikes) == 3), "the first client's strikes never reached Redis");
        }

        for (var i = 0; i < 2; i++)
        {
            (await second.GetAsync("/api/x")).Dispose();
        }

        using var response = await admin.GetAsync("/admin/offenders?top=50");
        var items = (await AdminApi.ReadJsonAsync(response)).GetProperty("items").EnumerateArray().ToList();
        using var top1 = await admin.GetAsync("/admin/offenders?top=1");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["127.0.43.2", "127.0.43.1"], items.Select(i => i.GetProperty("client").GetString()));
        Assert.Equal([1, 3], items.Select(i => i.GetProperty("strikes").GetInt32()));
        Assert.All(items, i => Assert.Equal(0, i.GetProperty("level").GetInt32()));
        Assert.Single((await AdminApi.ReadJsonAsync(top1)).GetProperty("items").EnumerateArray());
    }

    [Fact]
    public async Task Post_AllowlistedTarget_IsRefusedUnlessOverridden()
    {
        var config = Config().List("IpBans:Allowlist", "127.0.44.0/24", "2001:db8:44::/48");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);
        using var client = TestClients.From("127.0.44.5", gateway.Address);

        foreach (var target in (string[])["127.0.44.5", "127.0.0.0/16", "127.0.44.128/25", "2001:db8:44:1::1"])
        {
            using var refused = await admin.BanAsync(target, "01:00:00", "typo?");
            var detail = await AdminApi.AssertProblemAsync(refused, 409);
            Assert.Contains("overrideAllowlist", detail, StringComparison.Ordinal);
        }

        using (var explicitFalse = await admin.BanAsync("127.0.44.5", "01:00:00", overrideAllowlist: false))
        {
            await AdminApi.AssertProblemAsync(explicitFalse, 409);
        }

        using (var empty = await admin.GetAsync("/admin/bans"))
        {
            Assert.Equal(0, (await AdminApi.ReadJsonAsync(empty)).GetProperty("total").GetInt32());
        }

        using (var open = await client.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.OK, open.StatusCode);
        }

        using var overridden = await admin.BanAsync("127.0.44.5", "01:00:00", "confirmed compromised", overrideAllowlist: true);
        Assert.Equal(HttpStatusCode.Created, overridden.StatusCode);
        using var banned = await client.GetAsync("/open/x");
        Assert.Equal(HttpStatusCode.Forbidden, banned.StatusCode);

        using var outside = await admin.BanAsync("127.0.45.5", "01:00:00");
        Assert.Equal(HttpStatusCode.Created, outside.StatusCode);
    }

    [Fact]
    public async Task Import_Json_AcceptsGoodLinesReportsBadOnesAndEnforces()
    {
        var config = Config().List("IpBans:Allowlist", "127.0.46.100");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);
        using var client = TestClients.From("127.0.46.1", gateway.Address);
        const string json = """
            [
              { "target": "127.0.46.1", "duration": "01:00:00", "reason": "feed: botnet" },
              { "target": "198.51.100.0/24", "duration": null, "reason": "feed, \"permanent\"" },
              { "target": "203.0.113.300", "duration": "01:00:00" },
              { "target": "198.51.100.7", "duration": "-00:00:10" },
              { "target": "198.51.100.8", "duration": "01:00:00", "severity": "high" },
              { "target": "127.0.46.100", "duration": "01:00:00" },
              { "target": "127.0.46.1", "duration": "02:00:00" }
            ]
            """;

        using var response = await admin.SendAsync(HttpMethod.Post, "/admin/bans/import", AdminApi.Json(json));
        var report = await AdminApi.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, report.GetProperty("accepted").GetInt32());
        var rejected = report.GetProperty("rejected").EnumerateArray().ToList();
        Assert.Equal([3, 4, 5, 6, 7], rejected.Select(r => r.GetProperty("line").GetInt32()));
        Assert.Equal("203.0.113.300", rejected[0].GetProperty("target").GetString());
        Assert.All(rejected, r => Assert.False(string.IsNullOrEmpty(r.GetProperty("error").GetString())));

        using var banned = await client.GetAsync("/open/x");
        Assert.Equal(HttpStatusCode.Forbidden, banned.StatusCode);
        using var list = await admin.GetAsync("/admin/bans?origin=imported");
        var items = (await AdminApi.ReadJsonAsync(list)).GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["127.0.46.1", "198.51.100.0/24"], items.Select(i => i.GetProperty("target").GetString()).Order(StringComparer.Ordinal));
        Assert.All(items, i => Assert.Equal("secops", i.GetProperty("createdBy").GetString()));

        // Importing the same file again never shortens a ban: the timed one is renewed from now, the permanent one kept.
        using var again = await admin.SendAsync(HttpMethod.Post, "/admin/bans/import", AdminApi.Json(json));
        var second = await AdminApi.ReadJsonAsync(again);
        Assert.Equal(2, second.GetProperty("accepted").GetInt32());
        Assert.Equal(1, second.GetProperty("unchanged").GetInt32());
        using var shorter = await admin.SendAsync(HttpMethod.Post, "/admin/bans/import", AdminApi.Json("""[{ "target": "127.0.46.1", "duration": "00:00:30" }]"""));
        Assert.Equal(1, (await AdminApi.ReadJsonAsync(shorter)).GetProperty("unchanged").GetInt32());
        using var kept = await admin.GetAsync("/admin/bans/127.0.46.1");
        Assert.True((await AdminApi.ReadJsonAsync(kept)).GetProperty("expiresAt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(50));

        // With the flag, the allowlisted line is accepted.
        using var overridden = await admin.SendAsync(HttpMethod.Post, "/admin/bans/import?overrideAllowlist=true", AdminApi.Json("""[{ "target": "127.0.46.100", "duration": "01:00:00" }]"""));
        Assert.Equal(1, (await AdminApi.ReadJsonAsync(overridden)).GetProperty("accepted").GetInt32());
    }

    [Fact]
    public async Task Import_Csv_AcceptsGoodLinesAndReportsBadOnesByLineNumber()
    {
        await using var gateway = await AdminGateway.StartAsync(Config().Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);
        var csv = "target,duration,reason\r\n"
                  + "203.0.113.7,01:00:00,\"scanner, \"\"loud\"\"\nsecond line\"\r\n"
                  + "bogus,01:00:00,x\r\n"
                  + "203.0.113.8,,permanent\r\n"
                  + "203.0.113.9,1h,x\r\n"
                  + "203.0.113.10,00:00:00,x\r\n"
                  + "203.0.113.11,01:00:00\r\n"
                  + "2001:db8::/32,7.00:00:00,range\r\n";

        using var response = await admin.SendAsync(HttpMethod.Post, "/admin/bans/import", new StringContent(csv, Encoding.UTF8, "text/csv"));
        var report = await AdminApi.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(3, report.GetProperty("accepted").GetInt32());
        Assert.Equal([4, 6, 7, 8], report.GetProperty("rejected").EnumerateArray().Select(r => r.GetProperty("line").GetInt32()));
        using var one = await admin.GetAsync("/admin/bans/203.0.113.7");
        var ban = await AdminApi.ReadJsonAsync(one);
        Assert.Equal("scanner, \"loud\"\nsecond line", ban.GetProperty("reason").GetString());
        Assert.Equal("imported", ban.GetProperty("origin").GetString());
        using var permanent = await admin.GetAsync("/admin/bans/203.0.113.8");
        Assert.Equal(JsonValueKind.Null, (await AdminApi.ReadJsonAsync(permanent)).GetProperty("expiresAt").ValueKind);
        using var range = await admin.GetAsync("/admin/bans/2001:db8::%2F32");
        Assert.Equal(HttpStatusCode.OK, range.StatusCode);
    }
}
