using System.Globalization;
using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>
/// Two gateway nodes sharing the real Redis: failed admin authentications are one count per address, whichever node's
/// admin listener they reach.
/// </summary>
public sealed class AdminAuthenticationMultiNodeTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private GatewayConfig Config(int limit)
        => new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "Disable")
            .WithAdminKeys()
            .Set("Admin:AuthFailureLimit", limit.ToString(CultureInfo.InvariantCulture))
            .Set("Admin:AuthFailureWindow", "00:05:00");

    [Fact]
    public async Task FailuresSpreadOverBothNodes_LockTheAddressOutOnBothAtExactlyTheLimit()
    {
        const int limit = 6;
        var config = Config(limit);
        await using var first = await AdminGateway.StartAsync(config.Values);
        await using var second = await AdminGateway.StartAsync(config.Values);
        using var attackerOnFirst = new AdminApi(first, http: TestClients.From("127.0.70.1", first.AdminAddress));
        using var attackerOnSecond = new AdminApi(second, http: TestClients.From("127.0.70.1", second.AdminAddress));
        var nodes = new[] { attackerOnFirst, attackerOnSecond };

        for (var i = 0; i < limit - 1; i++)
        {
            using var guess = await nodes[i % 2].SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.NewKey());
            Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
        }

        // One short of the limit, the address is not locked out anywhere, and successful requests are not counted.
        foreach (var node in nodes)
        {
            for (var i = 0; i < 3; i++)
            {
                using var ok = await node.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.Reader);
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            }
        }

        using (var last = await attackerOnSecond.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.NewKey()))
        {
            Assert.Equal(HttpStatusCode.Unauthorized, last.StatusCode);
        }

        // The first node never saw the failure that reached the limit; it refuses all the same.
        foreach (var node in new[] { attackerOnFirst, attackerOnSecond, attackerOnFirst })
        {
            using var wrong = await node.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.NewKey());
            await AdminApi.AssertProblemAsync(wrong, 429);
            Assert.InRange(wrong.Headers.RetryAfter?.Delta?.TotalSeconds ?? 0, 1, 301);

            using var right = await node.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.Reader);
            await AdminApi.AssertProblemAsync(right, 429);
        }

        // Another address is not affected, on either node.
        foreach (var gateway in new[] { first, second })
        {
            using var colleague = new AdminApi(gateway, AdminKeys.Reader, TestClients.From("127.0.70.2", gateway.AdminAddress));
            using var ok = await colleague.GetAsync("/admin/bans");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // One count in Redis, in the library's key around the gateway's partition; refusals added nothing to it.
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var partition = RedisKeys.AdminAuthFailures(config.KeyPrefix, "127.0.70.1");
        Assert.Equal(config.KeyPrefix + ":admin-auth:127.0.70.1", partition);
        var count = await redis.GetDatabase().StringGetAsync($"rl:fw:{{{partition}}}");
        Assert.Equal(limit, (int)count);
        var ttl = await redis.GetDatabase().KeyTimeToLiveAsync($"rl:fw:{{{partition}}}");
        Assert.InRange(ttl!.Value.TotalSeconds, 1, 302);
    }

    [Fact]
    public async Task ConcurrentGuessesOnBothNodes_ExactlyTheLimitAreAnswered401()
    {
        const int limit = 10;
        var config = Config(limit);
        await using var first = await AdminGateway.StartAsync(config.Values);
        await using var second = await AdminGateway.StartAsync(config.Values);
        using var toFirst = new AdminApi(first, http: TestClients.From("127.0.71.1", first.AdminAddress, maxConnections: 16));
        using var toSecond = new AdminApi(second, http: TestClients.From("127.0.71.1", second.AdminAddress, maxConnections: 16));

        var statuses = await Task.WhenAll(Enumerable.Range(0, 60).Select(async i =>
        {
            using var response = await (i % 2 == 0 ? toFirst : toSecond).SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.NewKey());
            return response.StatusCode;
        }));

        Assert.Equal(limit, statuses.Count(s => s == HttpStatusCode.Unauthorized));
        Assert.Equal(60 - limit, statuses.Count(s => s == HttpStatusCode.TooManyRequests));
    }

    [Fact]
    public async Task SprayFromManyAddressesOverBothNodes_NeverLocksOutAValidKeyFromAFreshAddress()
    {
        const int limit = 2;
        var config = Config(limit);
        await using var first = await AdminGateway.StartAsync(config.Values);
        await using var second = await AdminGateway.StartAsync(config.Values);
        var gateways = new[] { first, second };

        // 400 addresses, each locked out by its own guesses, one on each node.
        var sprayers = Enumerable.Range(0, 400).Select(i => $"127.0.{72 + (i / 200)}.{1 + (i % 200)}").ToList();
        using var concurrency = new SemaphoreSlim(32);
        var results = await Task.WhenAll(sprayers.Select(async address =>
        {
            await concurrency.WaitAsync();
            try
            {
                var statuses = new List<HttpStatusCode>();
                foreach (var gateway in gateways.Concat(gateways))
                {
                    using var http = TestClients.From(address, gateway.AdminAddress, maxConnections: 1);
                    using var attacker = new AdminApi(gateway, http: http);
                    using var response = await attacker.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.NewKey());
                    statuses.Add(response.StatusCode);
                }

                return statuses;
            }
            finally
            {
                concurrency.Release();
            }
        }));
        Assert.All(results, statuses => Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests, HttpStatusCode.TooManyRequests], statuses));

        foreach (var gateway in gateways)
        {
            using var fresh = new AdminApi(gateway, AdminKeys.Reader, TestClients.From("127.0.74.1", gateway.AdminAddress));
            using var ok = await fresh.GetAsync("/admin/bans");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        }

        // And a fresh address's first wrong key is a first failure, not a lockout.
        using var newcomer = new AdminApi(second, http: TestClients.From("127.0.74.2", second.AdminAddress));
        using var guess = await newcomer.SendAsync(HttpMethod.Get, "/admin/bans", key: AdminKeys.NewKey());
        Assert.Equal(HttpStatusCode.Unauthorized, guess.StatusCode);
    }
}
