using System.Diagnostics;
using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Hosting;

/// <summary>
/// A request may take only so long in all: the default of <c>RequestTimeouts</c>, a route's own <c>Timeout</c> or a named
/// <c>TimeoutPolicy</c>; past it the client gets 504 problem+json. The upstream's
/// <c>/slow/</c> paths answer after 5 s.
/// </summary>
public sealed class RequestTimeoutsTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    [Fact]
    public async Task SlowUpstream_Is504_AtTheDefault_TheRoutesTimeout_OrItsPolicy_AndDisableLetsItFinish()
    {
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("by-default", "/by-default", "Disable")
            .Route("own", "/own", "Disable")
            .Route("named", "/named", "Disable")
            .Route("unbounded", "/unbounded", "Disable")
            .Set("RequestTimeouts:Default", "00:00:02")
            .Set("RequestTimeouts:Policies:short", "00:00:01")
            .Set("ReverseProxy:Routes:own:Timeout", "00:00:01")
            .Set("ReverseProxy:Routes:named:TimeoutPolicy", "short")
            .Set("ReverseProxy:Routes:unbounded:TimeoutPolicy", "Disable");
        await using var gateway = await GatewayProcess.StartAsync(config.Values);
        using var client = TestClients.From("127.0.79.1", gateway.Address);

        foreach (var (path, expected) in new[] { ("/by-default/slow/a", 2.0), ("/own/slow/b", 1.0), ("/named/slow/c", 1.0) })
        {
            var clock = Stopwatch.StartNew();
            using var response = await client.GetAsync(path);
            var took = clock.Elapsed;

            Assert.True(response.StatusCode == HttpStatusCode.GatewayTimeout, $"{path}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
            Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
            Assert.InRange(took.TotalSeconds, expected - 0.2, 4.5);
        }

        using var unbounded = await client.GetAsync("/unbounded/slow/d");
        Assert.Equal(HttpStatusCode.OK, unbounded.StatusCode);
        Assert.Equal("upstream ok", await unbounded.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task RouteNamingAnUnknownTimeoutPolicy_StopsStartUp()
    {
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("named", "/named", "Disable")
            .Set("ReverseProxy:Routes:named:TimeoutPolicy", "nosuch");

        var failure = await Assert.ThrowsAnyAsync<Exception>(() => GatewayProcess.StartAsync(config.Values));

        Assert.Contains("nosuch", failure.Message, StringComparison.Ordinal);
    }
}
