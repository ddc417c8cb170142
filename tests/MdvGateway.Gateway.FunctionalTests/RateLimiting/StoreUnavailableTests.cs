using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.RateLimiting;

/// <summary>The gateway pointed at a Redis address where nothing listens: WhenStoreUnavailable decides, never a 5xx of its own making.</summary>
public sealed class StoreUnavailableTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private GatewayConfig WithoutRedis(string behavior)
        => new GatewayConfig(fixture.Upstream.Address)
            .Route("auth", "/auth", "auth")
            .Policy("auth", 3, "00:01:00")
            .Set("Redis:Configuration", "127.0.0.1:1,connectTimeout=200")
            .Set("RateLimiting:WhenStoreUnavailable", behavior);

    [Fact]
    public async Task FallbackToLocal_EnforcesTheSamePolicyOnThisNode()
    {
        await using var gateway = await GatewayServer.StartAsync(WithoutRedis("FallbackToLocal").Values);
        using var client = TestClients.From("127.0.20.1", gateway.Address);

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/auth/x");
            statuses.Add(response.StatusCode);
        }

        Assert.Equal([HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.OK, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses);
    }

    [Fact]
    public async Task Allow_AdmitsEverything()
    {
        await using var gateway = await GatewayServer.StartAsync(WithoutRedis("Allow").Values);
        using var client = TestClients.From("127.0.20.2", gateway.Address);

        for (var i = 0; i < 8; i++)
        {
            using var response = await client.GetAsync("/auth/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("\"auth\";q=3;w=60", Assert.Single(response.Headers.GetValues("RateLimit-Policy")));
        }
    }

    [Fact]
    public async Task Reject_Answers503WithRetryAfter()
    {
        await using var gateway = await GatewayServer.StartAsync(WithoutRedis("Reject").Values);
        using var client = TestClients.From("127.0.20.3", gateway.Address);

        using var response = await client.GetAsync("/auth/x");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.NotNull(response.Headers.RetryAfter);
        Assert.Contains("urn:mdvgateway:problem:rate-limit-store-unavailable", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Readiness_WithoutRedisAtStart_IsNotReadyButLive()
    {
        await using var gateway = await GatewayServer.StartAsync(WithoutRedis("FallbackToLocal").Values);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };

        using var ready = await admin.GetAsync("/health/ready");
        using var live = await admin.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Contains("\"banCache\":\"loading\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }
}
