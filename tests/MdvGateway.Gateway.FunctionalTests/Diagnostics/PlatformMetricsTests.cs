using System.Globalization;
using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Diagnostics;

/// <summary>
/// ASP.NET Core's, Kestrel's and the HTTP client's meters on the admin listener's <c>/metrics</c>: the public server's
/// traffic only, although the admin server of the same process (and other gateways of this test process) publish the
/// same meters under the same names.
/// </summary>
public sealed class PlatformMetricsTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private const string ApiRoute = "/api/{**rest}";

    [Fact]
    public async Task Metrics_AfterProxiedTraffic_CountEveryPublicRequestOnce_AndNoAdminRequest_WithoutDuplicateSeries()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "Disable");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.70.1", gateway.Address);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
        var publicPort = new Uri(gateway.Address).Port.ToString(CultureInfo.InvariantCulture);
        var adminPort = new Uri(gateway.AdminAddress).Port.ToString(CultureInfo.InvariantCulture);
        var upstreamPort = new Uri(fixture.Upstream.Address).Port.ToString(CultureInfo.InvariantCulture);

        for (var i = 0; i < 7; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync($"/api/item/{i}"));
        }

        Assert.Equal(HttpStatusCode.NotFound, await client.GetStatusAsync("/nowhere"));
        // Admin traffic, finished before the scrape below: it must not show up as gateway traffic.
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(admin, "/health/ready", HttpStatusCode.OK));
        (await admin.GetAsync("/metrics")).Dispose();
        (await admin.GetAsync("/health/live")).Dispose();

        var metrics = await PrometheusText.ScrapeAsync(admin);

        var proxied = metrics.Find("http_server_request_duration_seconds_count", ("http_route", ApiRoute)).ToList();
        var ok = Assert.Single(proxied);
        Assert.Equal("200", ok.Labels["http_response_status_code"]);
        Assert.Equal("GET", ok.Labels["http_request_method"]);
        Assert.Equal(7, ok.Value);
        Assert.Equal(7, metrics.Find("http_server_request_duration_seconds_bucket", ("http_route", ApiRoute), ("le", "+Inf")).Single().Value);
        Assert.Equal(1, metrics.Find("http_server_request_duration_seconds_count", ("http_response_status_code", "404")).Sum(s => s.Value));

        // Everything the public server counted: the proxied requests and the unmatched one, nothing of the admin server's.
        Assert.Equal(8, metrics.Find("http_server_request_duration_seconds_count").Sum(s => s.Value));
        Assert.DoesNotContain(metrics.Samples, s => s.Labels.TryGetValue("http_route", out var route) && route is "/metrics" or "/health/ready" or "/health/live");

        // Kestrel's connection instruments carry the listener's port: the public one only.
        var connections = metrics.Find("kestrel_connection_duration_seconds_count").ToList();
        Assert.NotEmpty(metrics.Find("kestrel_active_connections", ("server_port", publicPort)));
        Assert.DoesNotContain(metrics.Samples, s => s.Name.StartsWith("kestrel_", StringComparison.Ordinal) && s.Labels["server_port"] == adminPort);
        Assert.All(connections, s => Assert.Equal(publicPort, s.Labels["server_port"]));

        // YARP's calls to this test's upstream, by the outgoing HTTP client's meter.
        Assert.Equal(7, metrics.Find("http_client_request_duration_seconds_count", ("server_port", upstreamPort)).Sum(s => s.Value));

        Assert.Empty(metrics.Samples.GroupBy(s => s.Series).Where(g => g.Count() > 1).Select(g => g.Key));
        Assert.Empty(metrics.TypeLines.GroupBy(t => t).Where(g => g.Count() > 1).Select(g => g.Key));
    }
}
