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

    [Fact]
    public async Task Metrics_AreServedAsPrometheusTextOnTheAdminListenerOnly_WithoutClientAddresses()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).Route("auth", "/auth", "auth").Policy("auth", 1, "00:01:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.60.1", gateway.Address);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/x"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));

        using var metrics = await Eventually.GetAsync(admin, "/metrics", r => r.IsSuccessStatusCode);
        var text = await metrics.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, metrics.StatusCode);
        Assert.Contains("mdv_gateway_ratelimit_decisions", text, StringComparison.Ordinal);
        Assert.Contains("outcome=\"rejected\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain("127.0.60.1", text, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, await client.GetStatusAsync("/metrics"));
    }
}
