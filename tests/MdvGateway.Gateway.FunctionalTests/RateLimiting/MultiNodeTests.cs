using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.RateLimiting;

public sealed class MultiNodeTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    [Theory]
    [InlineData(25, 400)]
    [InlineData(100, 600)]
    [InlineData(400, 1200)] // room for reserves: each node's busy partition counts permits ahead until half the limit is used
    public async Task TwoGateways_SharingRedis_AdmitExactlyPermitLimitUnderConcurrency(int permitLimit, int requests)
    {
        var config = new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "shared").Policy("shared", permitLimit, "00:05:00");
        await using var first = await GatewayServer.StartAsync(config.Values);
        await using var second = await GatewayServer.StartAsync(config.Values);
        using var toFirst = TestClients.From("127.0.6.1", first.Address, maxConnections: 32);
        using var toSecond = TestClients.From("127.0.6.1", second.Address, maxConnections: 32);
        var marker = "/api/" + config.KeyPrefix;

        var calls = Enumerable.Range(0, requests).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? toFirst : toSecond).GetAsync(marker);
            return response.StatusCode;
        });
        var statuses = await Task.WhenAll(calls);

        Assert.Equal(permitLimit, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(requests - permitLimit, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
        Assert.Equal(permitLimit, fixture.Upstream.Requests.Count(r => r.Path == marker));

        var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await using var _ = redis;
        var window = await RateLimitWindows.CountAsync(redis.GetDatabase(), RateLimitWindows.Key(config.KeyPrefix, "shared", "shared", "127.0.6.1"));
        Assert.Equal(permitLimit, window);
    }
}
