using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

public sealed class AdminListenerTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    [Fact]
    public async Task HealthEndpoints_AreServedOnTheAdminListenerOnly()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "Disable");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
        using var publicClient = new HttpClient { BaseAddress = new Uri(gateway.Address) };

        using var live = await admin.GetAsync("/health/live");
        using var ready = await Eventually.GetAsync(admin, "/health/ready", r => r.StatusCode == HttpStatusCode.OK);
        using var onPublic = await publicClient.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"redis\":\"connected\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, onPublic.StatusCode);
        Assert.NotEqual(new Uri(gateway.AdminAddress).Port, new Uri(gateway.Address).Port);
    }
}
