using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>A ban made through the admin API is enforced by the node that made it at once, and by every other node within a second.</summary>
public sealed class AdminEnforcementTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private static readonly TimeSpan OneSecond = TimeSpan.FromSeconds(1);

    private GatewayConfig Config() => new GatewayConfig(fixture.Upstream.Address).Route("open", "/open", "Disable").WithAdminKeys();

    [Fact]
    public async Task ManualBan_IsEnforcedOnBothNodes_AndLiftingItIsToo()
    {
        var config = Config();
        await using var first = await AdminGateway.StartAsync(config.Values);
        await using var second = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(first, AdminKeys.All);
        using var toFirst = TestClients.From("127.0.47.1", first.Address);
        using var toSecond = TestClients.From("127.0.47.1", second.Address);
        using var bystander = TestClients.From("127.0.47.2", first.Address);
        using var secondAdmin = new HttpClient { BaseAddress = new Uri(second.AdminAddress) };
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(secondAdmin, "/health/ready", HttpStatusCode.OK));
        using (var before = await toSecond.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.OK, before.StatusCode);
        }

        var upstreamCalls = fixture.Upstream.Requests.Count;
        using var created = await admin.BanAsync("127.0.47.1", "00:30:00", "incident 7");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        // The node that made the ban enforces it before answering.
        using (var onFirst = await toFirst.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, onFirst.StatusCode);
            Assert.Equal("application/problem+json", onFirst.Content.Headers.ContentType?.MediaType);
            Assert.InRange(onFirst.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1700, 1800);
        }

        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(toSecond, "/open/x", HttpStatusCode.Forbidden, OneSecond));
        Assert.Equal(upstreamCalls, fixture.Upstream.Requests.Count);
        using (var other = await bystander.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        using (var lifted = await admin.DeleteAsync("/admin/bans/127.0.47.1"))
        {
            Assert.Equal(HttpStatusCode.NoContent, lifted.StatusCode);
        }

        using (var onFirst = await toFirst.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.OK, onFirst.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(toSecond, "/open/x", HttpStatusCode.OK, OneSecond));
    }

    [Fact]
    public async Task CidrBanMadeOnTheSecondNode_CoversMembersOnBothNodes()
    {
        var config = Config();
        await using var first = await AdminGateway.StartAsync(config.Values);
        await using var second = await AdminGateway.StartAsync(config.Values);
        using var adminOnSecond = new AdminApi(second, AdminKeys.Writer);
        using var member = TestClients.From("127.0.48.77", first.Address);
        using var memberOnSecond = TestClients.From("127.0.48.78", second.Address);
        using var outsider = TestClients.From("127.0.49.1", first.Address);
        using var firstAdmin = new HttpClient { BaseAddress = new Uri(first.AdminAddress) };
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(firstAdmin, "/health/ready", HttpStatusCode.OK));

        using var created = await adminOnSecond.BanAsync("127.0.48.0/24", null, "range");
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);

        using (var onSecond = await memberOnSecond.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.Forbidden, onSecond.StatusCode);
            Assert.Null(onSecond.Headers.RetryAfter);
        }

        Assert.Equal(HttpStatusCode.Forbidden, await Eventually.StatusAsync(member, "/open/x", HttpStatusCode.Forbidden, OneSecond));
        using (var other = await outsider.GetAsync("/open/x"))
        {
            Assert.Equal(HttpStatusCode.OK, other.StatusCode);
        }

        using var lifted = await adminOnSecond.DeleteAsync("/admin/bans/127.0.48.0%2F24");
        Assert.Equal(HttpStatusCode.NoContent, lifted.StatusCode);
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(member, "/open/x", HttpStatusCode.OK, OneSecond));
    }

    [Fact]
    public async Task AdminEndpoints_AreNotReachableOnThePublicPort()
    {
        await using var gateway = await AdminGateway.StartAsync(Config().Route("all", "/", "Disable").Values);
        using var publicClient = new HttpClient { BaseAddress = new Uri(gateway.Address) };

        foreach (var path in (string[])["/admin/bans", "/admin/openapi.json", "/admin/policies", "/admin/offenders"])
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, path);
            request.Headers.TryAddWithoutValidation("X-Api-Key", AdminKeys.All);
            using var response = await publicClient.SendAsync(request);

            // The catch-all route proxies to the upstream, which knows nothing of /admin: the gateway never answers it.
            Assert.NotEqual("application/json", response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("upstream ok", await response.Content.ReadAsStringAsync());
        }

        await using var noCatchAll = await AdminGateway.StartAsync(Config().Values);
        using var plain = new HttpClient { BaseAddress = new Uri(noCatchAll.Address) };
        using var notFound = await plain.GetAsync("/admin/bans");
        Assert.Equal(HttpStatusCode.NotFound, notFound.StatusCode);
        using var openApi = await plain.GetAsync("/admin/openapi.json");
        Assert.Equal(HttpStatusCode.NotFound, openApi.StatusCode);
    }
}
