using System.Net;
using System.Text.Json;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.IpBans;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.VisualBasic.FileIO;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

public sealed class AdminBanQueryTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private const string TrickyReason = "scanner, \"aggressive\"\nsee ticket =SEC-42";

    private async Task<(GatewayServer Gateway, AdminApi Admin, DateTimeOffset Now)> StartWithBansAsync()
    {
        var gateway = await AdminGateway.StartAsync(new GatewayConfig(fixture.Upstream.Address).WithAdminKeys().Values);
        var admin = new AdminApi(gateway, AdminKeys.All);
        var store = gateway.Services.GetRequiredService<IBanStore>();
        var now = await store.GetTimeAsync();

        // Automatic bans with known creation times, written straight to the store as a gateway node would.
        await store.UpsertAsync(AutoBan("203.0.113.7", now.AddHours(-3)), keepLonger: false);
        await store.UpsertAsync(AutoBan("2001:db8:1:2::/64", now.AddHours(-2)), keepLonger: false);
        await store.UpsertAsync(AutoBan("198.51.101.9", now.AddHours(-2)), keepLonger: false);

        // Manual and imported ones through the API (created "now").
        (await admin.BanAsync("203.0.113.0/24", "01:00:00", TrickyReason)).Dispose();
        (await admin.BanAsync("10.0.0.0/8", null, "permanent")).Dispose();
        using var imported = await admin.SendAsync(HttpMethod.Post, "/admin/bans/import", AdminApi.Json("""[{"target":"198.51.100.0/22","duration":"02:00:00","reason":"feed"}]"""));
        Assert.Equal(HttpStatusCode.OK, imported.StatusCode);
        return (gateway, admin, now);
    }

    private static Ban AutoBan(string target, DateTimeOffset createdAt) => new()
    {
        Target = target,
        Origin = BanOrigins.Auto,
        Reason = "strikes",
        Level = 2,
        CreatedAt = createdAt,
        ExpiresAt = createdAt.AddDays(1),
        CreatedBy = "gateway:test",
        Policy = "auth",
        Strikes = 10,
    };

    private static async Task<List<string>> TargetsAsync(AdminApi admin, string query)
    {
        using var response = await admin.GetAsync("/admin/bans" + query);
        Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
        var body = await AdminApi.ReadJsonAsync(response);
        return body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("target").GetString()!).ToList();
    }

    [Fact]
    public async Task List_NoFilter_ReturnsEveryActiveBanInCreationOrderWithAllFields()
    {
        var (gateway, admin, _) = await StartWithBansAsync();
        await using var gatewayScope = gateway;
        using var adminScope = admin;

        using var response = await admin.GetAsync("/admin/bans");
        var body = await AdminApi.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(6, body.GetProperty("total").GetInt32());
        var items = body.GetProperty("items").EnumerateArray().ToList();
        Assert.Equal(["203.0.113.7", "198.51.101.9", "2001:db8:1:2::/64"], items.Take(3).Select(i => i.GetProperty("target").GetString()));
        Assert.Equal(["10.0.0.0/8", "198.51.100.0/22", "203.0.113.0/24"], items.Skip(3).Select(i => i.GetProperty("target").GetString()).Order(StringComparer.Ordinal));
        var createdAts = items.Select(i => i.GetProperty("createdAt").GetDateTimeOffset()).ToList();
        Assert.Equal(createdAts.Order(), createdAts);

        var auto = items[0];
        foreach (var field in (string[])["target", "origin", "reason", "level", "createdAt", "expiresAt", "createdBy", "policy", "strikes"])
        {
            Assert.True(auto.TryGetProperty(field, out _), field);
        }

        Assert.Equal("auto", auto.GetProperty("origin").GetString());
        Assert.Equal(2, auto.GetProperty("level").GetInt32());
        Assert.Equal("auth", auto.GetProperty("policy").GetString());
        Assert.Equal(10, auto.GetProperty("strikes").GetInt32());
        var manual = items.Single(i => i.GetProperty("target").GetString() == "203.0.113.0/24");
        Assert.Equal("manual", manual.GetProperty("origin").GetString());
        Assert.Equal("secops", manual.GetProperty("createdBy").GetString());
        Assert.Equal(0, manual.GetProperty("level").GetInt32());
        Assert.Equal(TrickyReason, manual.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, items.Single(i => i.GetProperty("target").GetString() == "10.0.0.0/8").GetProperty("expiresAt").ValueKind);
    }

    [Fact]
    public async Task List_EachFilter_NarrowsTheResult()
    {
        var (gateway, admin, now) = await StartWithBansAsync();
        await using var gatewayScope = gateway;
        using var adminScope = admin;
        var iso = (DateTimeOffset t) => Uri.EscapeDataString(t.ToString("yyyy-MM-dd'T'HH:mm:ss.fffK", System.Globalization.CultureInfo.InvariantCulture));

        Assert.Equal(["203.0.113.7"], await TargetsAsync(admin, "?ip=203.0.113.7"));
        Assert.Equal(["2001:db8:1:2::/64"], await TargetsAsync(admin, "?ip=" + Uri.EscapeDataString("2001:db8:1:2::beef")));
        Assert.Equal(["203.0.113.0/24"], await TargetsAsync(admin, "?ip=203.0.113.0%2F24"));
        Assert.Empty(await TargetsAsync(admin, "?ip=203.0.113.8"));

        // contains=<address>: every ban that covers the address.
        Assert.Equal(["203.0.113.7", "203.0.113.0/24"], await TargetsAsync(admin, "?contains=203.0.113.7"));
        Assert.Equal(["203.0.113.0/24"], await TargetsAsync(admin, "?contains=203.0.113.200"));
        Assert.Equal(["10.0.0.0/8"], await TargetsAsync(admin, "?contains=10.20.30.40"));
        Assert.Equal(["2001:db8:1:2::/64"], await TargetsAsync(admin, "?contains=" + Uri.EscapeDataString("2001:db8:1:2::1")));

        // contains=<range>: every ban inside the range.
        Assert.Equal(["198.51.101.9", "198.51.100.0/22"], await TargetsAsync(admin, "?contains=198.51.100.0%2F22"));
        Assert.Equal(["198.51.101.9"], await TargetsAsync(admin, "?contains=198.51.101.0/24"));
        Assert.Equal(["203.0.113.7", "203.0.113.0/24"], await TargetsAsync(admin, "?contains=203.0.0.0/16"));
        Assert.Empty(await TargetsAsync(admin, "?contains=192.0.2.0/24"));

        Assert.Equal(["203.0.113.7", "198.51.101.9", "2001:db8:1:2::/64"], await TargetsAsync(admin, "?origin=auto"));
        Assert.Equal(["10.0.0.0/8", "203.0.113.0/24"], (await TargetsAsync(admin, "?origin=manual")).Order(StringComparer.Ordinal));
        Assert.Equal(["198.51.100.0/22"], await TargetsAsync(admin, "?origin=imported"));

        Assert.Equal(["198.51.101.9", "2001:db8:1:2::/64"], await TargetsAsync(admin, $"?since={iso(now.AddHours(-2))}&until={iso(now.AddHours(-1))}"));
        Assert.Equal(["203.0.113.7"], await TargetsAsync(admin, $"?until={iso(now.AddHours(-2))}"));
        Assert.Equal(3, (await TargetsAsync(admin, $"?since={iso(now.AddMinutes(-1))}")).Count);
        Assert.Equal(["198.51.101.9"], await TargetsAsync(admin, $"?origin=auto&contains=198.51.0.0/16&since={iso(now.AddHours(-2))}"));
    }

    [Fact]
    public async Task List_Paging_IsStableAndCoversEveryBanOnce()
    {
        var (gateway, admin, _) = await StartWithBansAsync();
        await using var gatewayScope = gateway;
        using var adminScope = admin;

        var all = await TargetsAsync(admin, "?limit=10000");
        var paged = new List<string>();
        for (var offset = 0; offset < 8; offset += 2)
        {
            using var response = await admin.GetAsync($"/admin/bans?limit=2&offset={offset}");
            var body = await AdminApi.ReadJsonAsync(response);
            Assert.Equal(6, body.GetProperty("total").GetInt32());
            Assert.Equal(2, body.GetProperty("limit").GetInt32());
            Assert.Equal(offset, body.GetProperty("offset").GetInt32());
            paged.AddRange(body.GetProperty("items").EnumerateArray().Select(i => i.GetProperty("target").GetString()!));
        }

        Assert.Equal(6, all.Count);
        Assert.Equal(all, paged);
        Assert.Equal(all, await TargetsAsync(admin, ""));
    }

    [Fact]
    public async Task List_Csv_ParsesBackToTheSameBans()
    {
        var (gateway, admin, _) = await StartWithBansAsync();
        await using var gatewayScope = gateway;
        using var adminScope = admin;

        using var json = await admin.GetAsync("/admin/bans");
        var expected = (await AdminApi.ReadJsonAsync(json)).GetProperty("items").EnumerateArray().ToList();
        using var response = await admin.GetAsync("/admin/bans?format=csv");
        var csv = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("6", response.Headers.GetValues("X-Total-Count").Single());

        // Parsed by an independent RFC 4180 reader (the framework's TextFieldParser), not ours.
        using var parser = new TextFieldParser(new StringReader(csv)) { TextFieldType = FieldType.Delimited, HasFieldsEnclosedInQuotes = true, TrimWhiteSpace = false };
        parser.SetDelimiters(",");
        var rows = new List<string[]>();
        while (!parser.EndOfData)
        {
            rows.Add(parser.ReadFields()!);
        }

        Assert.Equal(["target", "origin", "reason", "level", "createdAt", "expiresAt", "createdBy", "policy", "strikes"], rows[0]);
        Assert.Equal(expected.Count, rows.Count - 1);
        for (var i = 0; i < expected.Count; i++)
        {
            var row = rows[i + 1];
            var item = expected[i];
            Assert.Equal(item.GetProperty("target").GetString(), row[0]);
            Assert.Equal(item.GetProperty("origin").GetString(), row[1]);
            Assert.Equal(item.GetProperty("level").GetInt32().ToString(System.Globalization.CultureInfo.InvariantCulture), row[3]);
            Assert.Equal(item.GetProperty("createdAt").GetDateTimeOffset().ToUnixTimeMilliseconds(), DateTimeOffset.Parse(row[4], System.Globalization.CultureInfo.InvariantCulture).ToUnixTimeMilliseconds());
            Assert.Equal(item.GetProperty("expiresAt").ValueKind == JsonValueKind.Null, row[5].Length == 0);
            Assert.Equal(item.GetProperty("createdBy").GetString(), row[6]);
        }

        var tricky = rows.Single(r => r[0] == "203.0.113.0/24");
        Assert.Equal(TrickyReason, tricky[2].Replace("\r\n", "\n", StringComparison.Ordinal));
        var filtered = await admin.GetAsync("/admin/bans?format=csv&origin=imported");
        Assert.Equal(2, (await filtered.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries).Length);
    }

    [Fact]
    public async Task List_CsvCellThatLooksLikeAFormula_IsNeutralised()
    {
        await using var gateway = await AdminGateway.StartAsync(new GatewayConfig(fixture.Upstream.Address).WithAdminKeys().Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);
        (await admin.BanAsync("192.0.2.5", "01:00:00", "=HYPERLINK(\"http://evil.example\",\"click\")")).Dispose();
        (await admin.BanAsync("192.0.2.6", "01:00:00", "@SUM(1+1)")).Dispose();

        using var response = await admin.GetAsync("/admin/bans?format=csv");
        var csv = await response.Content.ReadAsStringAsync();

        Assert.Contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"click\"\")\"", csv, StringComparison.Ordinal);
        Assert.Contains(",'@SUM(1+1),", csv, StringComparison.Ordinal);
        Assert.DoesNotContain(",=", csv, StringComparison.Ordinal);
        Assert.DoesNotContain(",@", csv, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Get_OneBan_ByAddressOrEncodedCidr()
    {
        var (gateway, admin, _) = await StartWithBansAsync();
        await using var gatewayScope = gateway;
        using var adminScope = admin;

        using var cidr = await admin.GetAsync("/admin/bans/203.0.113.0%2F24");
        using var lowercaseEscape = await admin.GetAsync("/admin/bans/203.0.113.0%2f24");
        using var ipv6 = await admin.GetAsync(AdminApi.Path("2001:db8:1:2::1"));
        using var missing = await admin.GetAsync("/admin/bans/203.0.113.8");

        Assert.Equal(HttpStatusCode.OK, cidr.StatusCode);
        Assert.Equal(TrickyReason, (await AdminApi.ReadJsonAsync(cidr)).GetProperty("reason").GetString());
        Assert.Equal(HttpStatusCode.OK, lowercaseEscape.StatusCode);
        Assert.Equal("2001:db8:1:2::/64", (await AdminApi.ReadJsonAsync(ipv6)).GetProperty("target").GetString());
        await AdminApi.AssertProblemAsync(missing, 404);
    }

    [Fact]
    public async Task Policies_ShowTheLimitsInForceAfterAReload()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).WithAdminKeys()
            .Route("api", "/api", "per-ip")
            .Policy("per-ip", 100, "00:00:01")
            .Policy("partner", 1000, "00:01:00", partitionBy: "Header:X-Partner", mode: "Shadow")
            .Set("RateLimiting:DefaultPolicy", "per-ip")
            .Set("RateLimiting:WhenStoreUnavailable", "Reject")
            .Set("RateLimiting:Policies:burst:Limits:0:PermitLimit", "10")
            .Set("RateLimiting:Policies:burst:Limits:0:Window", "00:00:01")
            .Set("RateLimiting:Policies:burst:Limits:1:Name", "hourly")
            .Set("RateLimiting:Policies:burst:Limits:1:PermitLimit", "1000")
            .Set("RateLimiting:Policies:burst:Limits:1:Window", "01:00:00")
            .Set("RateLimiting:Policies:burst:ReserveAhead", "false");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, AdminKeys.ConfigReader);

        using var response = await admin.GetAsync("/admin/policies");
        var body = await AdminApi.ReadJsonAsync(response);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("per-ip", body.GetProperty("defaultPolicy").GetString());
        Assert.Equal("Reject", body.GetProperty("whenStoreUnavailable").GetString());
        var policies = body.GetProperty("policies").EnumerateArray().ToDictionary(p => p.GetProperty("name").GetString()!);
        Assert.Equal(["burst", "partner", "per-ip"], policies.Keys);
        Assert.Equal("Shadow", policies["partner"].GetProperty("mode").GetString());
        Assert.Equal("Header:X-Partner", policies["partner"].GetProperty("partitionBy").GetString());
        Assert.Equal("Enforce", policies["per-ip"].GetProperty("mode").GetString());
        Assert.Equal("ClientIp", policies["per-ip"].GetProperty("partitionBy").GetString());
        Assert.True(policies["per-ip"].GetProperty("reserveAhead").GetBoolean());
        Assert.False(policies["burst"].GetProperty("reserveAhead").GetBoolean());
        var burst = policies["burst"].GetProperty("limits").EnumerateArray().ToList();
        Assert.Equal([10, 1000], burst.Select(l => l.GetProperty("permitLimit").GetInt32()));
        Assert.Equal([1L, 3600L], burst.Select(l => l.GetProperty("windowSeconds").GetInt64()));
        Assert.Equal("hourly", burst[1].GetProperty("name").GetString());

        var configuration = (Microsoft.Extensions.Configuration.IConfigurationRoot)gateway.Services.GetRequiredService<Microsoft.Extensions.Configuration.IConfiguration>();
        configuration["RateLimiting:Policies:per-ip:PermitLimit"] = "7";
        configuration.Reload();

        using var reloaded = await admin.GetAsync("/admin/policies");
        var perIp = (await AdminApi.ReadJsonAsync(reloaded)).GetProperty("policies").EnumerateArray().Single(p => p.GetProperty("name").GetString() == "per-ip");
        Assert.Equal(7, perIp.GetProperty("limits")[0].GetProperty("permitLimit").GetInt32());
    }
}
