using System.Net;
using System.Text;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

public sealed class AdminAuthenticationTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    /// <summary>Every authenticated endpoint, the role it needs and a request that is valid for it.</summary>
    public static TheoryData<string, string, string, string?> Endpoints() => new()
    {
        { "GET", "/admin/bans", AdminRoles.BansRead, null },
        { "GET", "/admin/bans?format=csv", AdminRoles.BansRead, null },
        { "GET", "/admin/bans/192.0.2.1", AdminRoles.BansRead, null },
        { "POST", "/admin/bans", AdminRoles.BansWrite, """{"target":"192.0.2.10","duration":"00:05:00","reason":"matrix"}""" },
        { "PATCH", "/admin/bans/192.0.2.10", AdminRoles.BansWrite, """{"duration":"00:10:00"}""" },
        { "DELETE", "/admin/bans/192.0.2.10", AdminRoles.BansWrite, null },
        { "POST", "/admin/bans/import", AdminRoles.BansWrite, """[{"target":"192.0.2.11","duration":"00:05:00"}]""" },
        { "GET", "/admin/offenders?top=5", AdminRoles.BansRead, null },
        { "GET", "/admin/policies", AdminRoles.ConfigRead, null },
    };

    private static readonly Dictionary<string, string> KeysByName = new()
    {
        ["reader"] = AdminKeys.Reader,
        ["writer"] = AdminKeys.Writer,
        ["config"] = AdminKeys.ConfigReader,
    };

    private static readonly Dictionary<string, string> RoleOfKey = new()
    {
        ["reader"] = AdminRoles.BansRead,
        ["writer"] = AdminRoles.BansWrite,
        ["config"] = AdminRoles.ConfigRead,
    };

    private static HttpRequestMessage Request(string method, string path, string? body)
        => new(new HttpMethod(method), path) { Content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/json") };

    private GatewayConfig Config() => new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "Disable").WithAdminKeys();

    [Theory]
    [MemberData(nameof(Endpoints))]
    public async Task Endpoint_WithoutKeyWrongKeyOrWrongRole_IsRefused(string method, string path, string role, string? body)
    {
        await using var gateway = await AdminGateway.StartAsync(Config().Values);
        using var admin = new AdminApi(gateway);

        using var noKey = await admin.Http.SendAsync(Request(method, path, body));
        Assert.Contains("Unauthorized", await AdminApi.AssertProblemAsync(noKey, 401) + noKey.StatusCode, StringComparison.Ordinal);
        Assert.Equal("ApiKey", Assert.Single(noKey.Headers.WwwAuthenticate).Scheme);

        var wrong = Request(method, path, body);
        wrong.Headers.TryAddWithoutValidation("Authorization", "ApiKey " + AdminKeys.Unknown);
        using var wrongKey = await admin.Http.SendAsync(wrong);
        await AdminApi.AssertProblemAsync(wrongKey, 401);

        var wrongHeader = Request(method, path, body);
        wrongHeader.Headers.TryAddWithoutValidation("X-Api-Key", AdminKeys.Unknown);
        using var wrongKeyHeader = await admin.Http.SendAsync(wrongHeader);
        await AdminApi.AssertProblemAsync(wrongKeyHeader, 401);

        foreach (var (name, key) in KeysByName)
        {
            var request = Request(method, path, body);
            request.Headers.TryAddWithoutValidation("X-Api-Key", key);
            using var response = await admin.Http.SendAsync(request);
            if (RoleOfKey[name] == role)
            {
                Assert.NotEqual(HttpStatusCode.Unauthorized, response.StatusCode);
                Assert.NotEqual(HttpStatusCode.Forbidden, response.StatusCode);
                Assert.True(response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.NotFound, $"{name}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            }
            else
            {
                var detail = await AdminApi.AssertProblemAsync(response, 403);
                Assert.Contains(role, detail, StringComparison.Ordinal);
            }
        }
    }

    [Theory]
    [InlineData("Authorization", "ApiKey {0}")]
    [InlineData("Authorization", "apikey {0}")]
    [InlineData("X-Api-Key", "{0}")]
    public async Task Key_InEitherHeaderForm_IsAccepted(string header, string format)
    {
        await using var gateway = await AdminGateway.StartAsync(Config().Values);
        using var admin = new AdminApi(gateway);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/bans");
        request.Headers.TryAddWithoutValidation(header, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, AdminKeys.Reader));

        using var response = await admin.Http.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(0, (await AdminApi.ReadJsonAsync(response)).GetProperty("total").GetInt32());
    }

    [Fact]
    public async Task Key_InBothHeaders_IsABadRequest()
    {
        await using var gateway = await AdminGateway.StartAsync(Config().Values);
        using var admin = new AdminApi(gateway);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/admin/bans");
        request.Headers.TryAddWithoutValidation("Authorization", "ApiKey " + AdminKeys.Reader);
        request.Headers.TryAddWithoutValidation("X-Api-Key", AdminKeys.Reader);

        using var response = await admin.Http.SendAsync(request);

        await AdminApi.AssertProblemAsync(response, 400);
    }

    [Fact]
    public async Task FailedAuthentications_OverTheLimit_LockTheAddressOutButNotOthers()
    {
        var config = Config().Set("Admin:AuthFailureLimit", "3").Set("Admin:AuthFailureWindow", "00:01:00");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var attacker = new AdminApi(gateway, http: TestClients.From("127.0.40.1", gateway.AdminAddress));
        using var colleague = new AdminApi(gateway, AdminKeys.Reader, TestClients.From("127.0.40.2", gateway.AdminAddress));

        // Successful requests are never counted.
        for (var i = 0; i < 20; i++)
        {
            using var ok = await attacker.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.Reader);
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // Requests without any key are not guesses either.
        for (var i = 0; i < 5; i++)
        {
            using var none = await attacker.GetAsync("/admin/bans");
            Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        }

        for (var i = 0; i < 3; i++)
        {
            using var guess = await attacker.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.NewKey());
            Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
        }

        using var locked = await attacker.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.NewKey());
        await AdminApi.AssertProblemAsync(locked, 429);
        var retryAfter = locked.Headers.RetryAfter?.Delta;
        Assert.NotNull(retryAfter);
        // The shared count keeps its window in whole seconds (RedisRateLimiting's fixed window): a lockout may last
        // up to one second past the window, and Retry-After says so rather than invite a retry that is refused.
        Assert.InRange(retryAfter.Value.TotalSeconds, 1, 61);

        // Locked out means no key is checked at all, so guessing cannot continue, even with the right key.
        using var evenTheRightKey = await attacker.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.Reader);
        Assert.Equal(HttpStatusCode.TooManyRequests, evenTheRightKey.StatusCode);

        using var other = await colleague.GetAsync("/admin/bans");
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);

        // Health stays reachable for the locked address.
        using var health = await attacker.GetAsync("/health/live");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
    }

    [Fact]
    public async Task Keys_ReloadWithTheConfiguration_TwoKeysValidDuringRotation()
    {
        var oldKey = AdminKeys.NewKey();
        var newKey = AdminKeys.NewKey();
        var config = new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "Disable");
        AdminKeys.Key(config, 0, "secops-old", oldKey, AdminRoles.BansRead, AdminRoles.BansWrite);
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway);
        var configuration = (IConfigurationRoot)gateway.Services.GetRequiredService<IConfiguration>();

        using (var before = await admin.SendAsync(HttpMethod.Get, "/admin/bans", key: newKey))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, before.StatusCode);
        }

        // Step 1 of a rotation: add the new key next to the old one.
        configuration["Admin:ApiKeys:1:Name"] = "secops-new";
        configuration["Admin:ApiKeys:1:Sha256"] = ApiKeyHash.Compute(newKey);
        configuration["Admin:ApiKeys:1:Roles:0"] = AdminRoles.BansWrite;
        configuration["Admin:ApiKeys:1:Roles:1"] = AdminRoles.BansRead;
        configuration.Reload();

        using (var withOld = await admin.SendAsync(HttpMethod.Get, "/admin/bans", key: oldKey))
        using (var withNew = await admin.SendAsync(HttpMethod.Post, "/admin/bans", AdminApi.Json("""{"target":"192.0.2.77","duration":null}"""), newKey))
        {
            Assert.Equal(HttpStatusCode.OK, withOld.StatusCode);
            Assert.Equal(HttpStatusCode.Created, withNew.StatusCode);
            Assert.Equal("secops-new", (await AdminApi.ReadJsonAsync(withNew)).GetProperty("createdBy").GetString());
        }

        // Step 2: retire the old key: entry 0 becomes the new key (entry 1 is reused for an unrelated key, because an
        // in-memory configuration cannot delete entries).
        configuration["Admin:ApiKeys:0:Name"] = "secops-new";
        configuration["Admin:ApiKeys:0:Sha256"] = ApiKeyHash.Compute(newKey);
        configuration["Admin:ApiKeys:1:Name"] = "auditor";
        configuration["Admin:ApiKeys:1:Sha256"] = ApiKeyHash.Compute(AdminKeys.NewKey());
        configuration.Reload();

        using var oldAfter = await admin.SendAsync(HttpMethod.Get, "/admin/bans", key: oldKey);
        using var newAfter = await admin.SendAsync(HttpMethod.Get, "/admin/bans", key: newKey);
        Assert.Equal(HttpStatusCode.Unauthorized, oldAfter.StatusCode);
        Assert.Equal(HttpStatusCode.OK, newAfter.StatusCode);
    }

    [Fact]
    public async Task NoKeysConfigured_EveryAdminEndpointIsRefused()
    {
        await using var gateway = await AdminGateway.StartAsync(new GatewayConfig(fixture.Upstream.Address).Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);

        using var response = await admin.GetAsync("/admin/bans");

        await AdminApi.AssertProblemAsync(response, 401);
    }
}
