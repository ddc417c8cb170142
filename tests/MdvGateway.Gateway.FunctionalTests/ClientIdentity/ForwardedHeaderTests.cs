using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.ClientIdentity;

public sealed class ForwardedHeaderTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamServer _upstream = fixture.Upstream;

    [Fact]
    public async Task ForgedForwardedFor_FromUntrustedPeer_IsIgnored()
    {
        var config = new GatewayConfig(_upstream.Address).Route("auth", "/auth", "auth").Policy("auth", 2, "00:01:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var attacker = TestClients.From("127.0.1.1", gateway.Address);

        // A fresh forged address on every request must not buy a fresh quota.
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add(await attacker.GetStatusAsync("/auth/x", $"198.51.100.{i + 1}"));
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
        var forwarded = _upstream.Requests.Where(r => r.Headers.TryGetValue("X-Forwarded-For", out var v) && v.Contains("127.0.1.1", StringComparison.Ordinal)).ToList();
        Assert.Equal(2, forwarded.Count);
        Assert.All(forwarded, r => Assert.Equal("127.0.1.1", r.Headers["X-Forwarded-For"]));
    }

    [Fact]
    public async Task ForwardedFor_FromTrustedProxy_IdentifiesTheRightMostUntrustedHop()
    {
        var config = new GatewayConfig(_upstream.Address)
            .Route("auth", "/auth", "auth")
            .Policy("auth", 1, "00:01:00")
            .List("ClientIp:TrustedProxies", "127.0.2.0/24", "10.0.0.0/8");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var proxy = TestClients.From("127.0.2.1", gateway.Address);

        // Left-most entries are whatever the client claimed; 203.0.113.9 is what our proxies saw.
        Assert.Equal(HttpStatusCode.OK, await proxy.GetStatusAsync("/auth/x", "1.1.1.1, 203.0.113.9, 10.1.1.1"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await proxy.GetStatusAsync("/auth/x", "8.8.8.8, 203.0.113.9, 10.2.2.2"));
        // A different real client behind the same proxies has its own quota.
        Assert.Equal(HttpStatusCode.OK, await proxy.GetStatusAsync("/auth/x", "203.0.113.10"));

        var seen = _upstream.Requests.Select(r => r.Headers.GetValueOrDefault("X-Forwarded-For")).ToList();
        Assert.Contains("203.0.113.9, 127.0.2.1", seen);
        Assert.Contains("203.0.113.10, 127.0.2.1", seen);
        Assert.DoesNotContain(seen, v => v is not null && v.Contains("1.1.1.1", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("not-an-ip")]
    [InlineData("999.1.1.1")]
    [InlineData("[::1")]
    [InlineData("1.2.3.4:99999")]
    [InlineData(",,,,")]
    [InlineData("203.0.113.1%eth0")]
    public async Task MalformedForwardedFor_NeverCausesAServerError(string header)
    {
        var config = new GatewayConfig(_upstream.Address)
            .Route("api", "/api", "per-ip")
            .Policy("per-ip", 1000, "00:00:10")
            .List("ClientIp:TrustedProxies", "127.0.3.0/24");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var proxy = TestClients.From("127.0.3.1", gateway.Address);
        using var stranger = TestClients.From("127.0.4.1", gateway.Address);

        Assert.Equal(HttpStatusCode.OK, await proxy.GetStatusAsync("/api/x", header));
        Assert.Equal(HttpStatusCode.OK, await stranger.GetStatusAsync("/api/x", header));
        Assert.Equal(HttpStatusCode.OK, await proxy.GetStatusAsync("/api/x", string.Join(", ", Enumerable.Repeat(header, 100))));
    }

    [Fact]
    public async Task InternalHeaders_AreNeverForwardedUpstream()
    {
        var config = new GatewayConfig(_upstream.Address).Route("open", "/open", "Disable");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.5.1", gateway.Address);
        var marker = Guid.NewGuid().ToString("N");
        using var request = new HttpRequestMessage(HttpMethod.Get, "/open/" + marker);
        request.Headers.Add("X-Mdv-Client-Key", "forged");
        request.Headers.Add("X-Forwarded-Host", "evil.example");

        using var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var seen = Assert.Single(_upstream.Requests, r => r.Path.EndsWith(marker, StringComparison.Ordinal));
        Assert.False(seen.Headers.ContainsKey("X-Mdv-Client-Key"));
        Assert.NotEqual("evil.example", seen.Headers.GetValueOrDefault("X-Forwarded-Host"));
        Assert.Equal("http", seen.Headers.GetValueOrDefault("X-Forwarded-Proto"));
    }
}
