using System.Net;
using System.Text.Json.Nodes;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.FunctionalTests.Admin;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>
/// Each setting the contract says reloads, edited in the file of a running gateway: the new value must be in force
/// within five seconds, without a restart.
/// </summary>
public sealed class ReloadedSettingsTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);

    private GatewayConfig Config() => new(fixture.Upstream.Address);

    private static JsonObject WithExempt(params string[] exempt)
    {
        var json = ReloadingGateway.BaseJson();
        json["RateLimiting"]!["Exempt"] = new JsonArray([.. exempt.Select(e => (JsonNode)e)]);
        return json;
    }

    private static JsonObject WithBans(int strikesBeforeBan, string[] banDurations, string[] allowlist, int statusCode = 403)
    {
        var json = ReloadingGateway.BaseJson();
        json["IpBans"] = new JsonObject
        {
            ["Enabled"] = true,
            ["StrikesBeforeBan"] = strikesBeforeBan,
            ["BanDurations"] = new JsonArray([.. banDurations.Select(d => (JsonNode)d)]),
            ["Allowlist"] = new JsonArray([.. allowlist.Select(a => (JsonNode)a)]),
            ["StatusCode"] = statusCode,
        };
        return json;
    }

    private static JsonObject WithKeys(params (string Name, string Key)[] keys)
    {
        var json = ReloadingGateway.BaseJson();
        json["Admin"] = new JsonObject
        {
            ["AuthFailureLimit"] = 1000,
            ["ApiKeys"] = new JsonArray([.. keys.Select(k => (JsonNode)new JsonObject
            {
                ["Name"] = k.Name,
                ["Sha256"] = ApiKeyHash.Compute(k.Key),
                ["Roles"] = new JsonArray(AdminRoles.BansRead),
            })]),
        };
        return json;
    }

    /// <summary>Requests until one is answered <paramref name="wanted"/> or the budget is spent; returns the last status.</summary>
    private static async Task<HttpStatusCode> HammerUntilAsync(HttpClient client, string path, HttpStatusCode wanted)
        => await Eventually.StatusAsync(client, path, wanted, Budget);

    [Fact]
    public async Task ExemptRange_AddedThenRemoved_StopsThenResumesLimiting()
    {
        await using var gateway = await ReloadingGateway.StartAsync(Config(), WithExempt());
        using var client = gateway.Client("127.0.50.1");
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/x"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));

        await gateway.EditAsync(WithExempt("127.0.50.0/24"));

        Assert.Equal(HttpStatusCode.OK, await HammerUntilAsync(client, "/auth/x", HttpStatusCode.OK));
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/x"));
        }

        await gateway.EditAsync(WithExempt());

        // Requests made while exempt were not counted; the one admitted before still fills the window of one.
        Assert.Equal(HttpStatusCode.TooManyRequests, await HammerUntilAsync(client, "/auth/x", HttpStatusCode.TooManyRequests));
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));
    }

    [Fact]
    public async Task BanThresholdAndLadder_Edited_ApplyToTheNextBan()
    {
        await using var gateway = await ReloadingGateway.StartAsync(Config(), WithBans(50, ["00:10:00"], []));
        using (var before = gateway.Client("127.0.51.1"))
        {
            // Ten strikes are far below 50: rejected, never banned.
            for (var i = 0; i < 11; i++)
            {
                Assert.NotEqual(HttpStatusCode.Forbidden, await before.GetStatusAsync("/auth/x"));
            }
        }

        await gateway.EditAsync(WithBans(2, ["00:00:42"], []));

        // A fresh client is admitted once, then earns a strike per request: two strikes now ban it.
        using var client = gateway.Client("127.0.51.2");
        using var banned = await Eventually.GetAsync(client, "/auth/x", r => r.StatusCode == HttpStatusCode.Forbidden, Budget);
        Assert.Equal(HttpStatusCode.Forbidden, banned.StatusCode);
        var retryAfter = banned.Headers.RetryAfter?.Delta ?? TimeSpan.Zero;
        Assert.InRange(retryAfter.TotalSeconds, 1, 42);
    }

    [Fact]
    public async Task AllowlistAndStatusCode_Edited_DecideWhoIsBannedAndHowTheyAreAnswered()
    {
        await using var gateway = await ReloadingGateway.StartAsync(Config(), WithBans(2, ["00:10:00"], ["127.0.52.0/24"]));
        using var first = gateway.Client("127.0.52.1");
        for (var i = 0; i < 10; i++)
        {
            Assert.NotEqual(HttpStatusCode.Forbidden, await first.GetStatusAsync("/auth/x"));
        }

        await gateway.EditAsync(WithBans(2, ["00:10:00"], []));

        // Off the allowlist, its next strikes ban it.
        Assert.Equal(HttpStatusCode.Forbidden, await HammerUntilAsync(first, "/auth/x", HttpStatusCode.Forbidden));

        await gateway.EditAsync(WithBans(2, ["00:10:00"], ["127.0.52.0/24"], statusCode: 451));

        // The banned client sees the new status code once the edit is in force (the allowlist lifts no ban)...
        Assert.Equal((HttpStatusCode)451, await HammerUntilAsync(first, "/auth/x", (HttpStatusCode)451));

        // ...and from then on, the same range back on the allowlist is never banned again.
        using var second = gateway.Client("127.0.52.2");
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 10; i++)
        {
            statuses.Add(await second.GetStatusAsync("/auth/x"));
        }

        Assert.Equal([HttpStatusCode.OK, .. Enumerable.Repeat(HttpStatusCode.TooManyRequests, 9)], statuses);
    }

    [Fact]
    public async Task AdminKeys_AddedAndRemoved_AreAcceptedAndRefusedOnTheAdminListener()
    {
        var oldKey = AdminKeys.NewKey();
        var newKey = AdminKeys.NewKey();
        await using var gateway = await ReloadingGateway.StartAsync(Config(), WithKeys(("old", oldKey)));
        using var withOld = new AdminApi(gateway.Server, oldKey);
        using var withNew = new AdminApi(gateway.Server, newKey);
        using (var response = await withOld.GetAsync("/admin/bans"))
        {
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        using (var response = await withNew.GetAsync("/admin/bans"))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        }

        // Rotation: both valid for a while, then the old one goes.
        await gateway.EditAsync(WithKeys(("old", oldKey), ("new", newKey)));
        Assert.True(await Eventually.TrueAsync(async () => await StatusAsync(withNew) == HttpStatusCode.OK, Budget));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(withOld));

        await gateway.EditAsync(WithKeys(("new", newKey)));
        Assert.True(await Eventually.TrueAsync(async () => await StatusAsync(withOld) == HttpStatusCode.Unauthorized, Budget));
        Assert.Equal(HttpStatusCode.OK, await StatusAsync(withNew));
    }

    private static async Task<HttpStatusCode> StatusAsync(AdminApi api)
    {
        using var response = await api.GetAsync("/admin/bans");
        return response.StatusCode;
    }
}
