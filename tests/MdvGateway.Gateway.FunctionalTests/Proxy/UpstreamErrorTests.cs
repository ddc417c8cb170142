using System.Net;
using System.Text.Json;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Proxy;

public sealed class UpstreamErrorTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    [Fact]
    public async Task UnreachableUpstream_Is502WithProblemBody()
    {
        // Port 9 (discard) has nothing listening on the test machines.
        var config = new GatewayConfig("http://127.0.0.1:9/").Route("api", "/api", "Disable");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.30.1", gateway.Address);

        using var response = await client.GetAsync("/api/x");

        Assert.Equal(HttpStatusCode.BadGateway, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal("urn:mdvgateway:problem:upstream-unavailable", body.RootElement.GetProperty("type").GetString());
        Assert.Equal(502, body.RootElement.GetProperty("status").GetInt32());
    }

    [Fact]
    public async Task SlowUpstream_PastTheClustersTimeout_Is504WithProblemBody()
    {
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "Disable")
            .Set("ReverseProxy:Clusters:app:HttpRequest:ActivityTimeout", "00:00:00.5");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.30.2", gateway.Address);

        using var response = await client.GetAsync("/api/slow/x");

        Assert.Equal(HttpStatusCode.GatewayTimeout, response.StatusCode);
        Assert.Contains("urn:mdvgateway:problem:upstream-timeout", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task BodyLargerThanTheRoutesLimit_Is413WithProblemBody_AndNeverReachesTheUpstream()
    {
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("upload", "/upload", "Disable")
            .Set("ReverseProxy:Routes:upload:MaxRequestBodySize", "1024");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.30.3", gateway.Address);
        var marker = "/upload/" + config.KeyPrefix;

        using var response = await client.PostAsync(marker, new ByteArrayContent(new byte[64 * 1024]));
        using var small = await client.PostAsync(marker + "/small", new ByteArrayContent(new byte[100]));

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Contains("urn:mdvgateway:problem:body-too-large", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
    }
}
