using System.Diagnostics;
using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.FunctionalTests.Resilience;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>
/// Redis dies (SIGKILL) or hangs (SIGSTOP) under the admin listener: valid keys still get in, wrong keys are counted
/// by the node alone and lock the address out at the limit, nothing is answered 5xx or waits much past
/// <c>Redis:TimeoutMs</c>; once Redis is back, failures are shared through it again and lockouts found meanwhile hold.
/// </summary>
[Collection(ResilienceTests.Name)]
public sealed class AdminAuthenticationRedisOutageTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private const int TimeoutMs = 250;
    private const int Limit = 4;

    /// <summary>A correctness bound: a request that waited on Redis's own timeout (10 s on this connection) would exceed it.</summary>
    private static readonly TimeSpan LongestAcceptableRequest = TimeSpan.FromMilliseconds(TimeoutMs) + TimeSpan.FromSeconds(2);

    [Theory]
    [InlineData(RedisOutage.Killed)]
    [InlineData(RedisOutage.Hung)]
    public async Task RedisAway_ValidKeysGetIn_WrongKeysAreLimitedPerNode_ThenSharedAgain(RedisOutage outage)
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "Disable")
            .WithAdminKeys()
            .Set("Admin:AuthFailureLimit", Limit.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Set("Admin:AuthFailureWindow", "00:05:00")
            .Set("Redis:Configuration", redis.Endpoint)
            .Set("Redis:TimeoutMs", TimeoutMs.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Set("Redis:BreakAfterFailures", "3")
            .Set("Redis:BreakDuration", "00:00:01");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var colleague = new AdminApi(gateway, AdminKeys.ConfigReader, TestClients.From("127.0.75.2", gateway.AdminAddress));
        using var attacker = new AdminApi(gateway, http: TestClients.From("127.0.75.1", gateway.AdminAddress));
        var timings = new List<TimeSpan>();

        // Warm: the admin pipeline and both Redis calls have run once before anything is timed.
        await ExpectAsync(HttpStatusCode.OK, colleague.GetAsync("/admin/policies"));
        using (var stranger = new AdminApi(gateway, http: TestClients.From("127.0.75.9", gateway.AdminAddress)))
        {
            await ExpectAsync(HttpStatusCode.Unauthorized, stranger.SendAsync(HttpMethod.Get, "/admin/policies", key: AdminKeys.NewKey()));
        }

        if (outage == RedisOutage.Killed)
        {
            await redis.KillAsync();
        }
        else
        {
            await redis.FreezeAsync();
        }

        await ExpectAsync(HttpStatusCode.OK, TimedAsync(timings, () => colleague.GetAsync("/admin/policies")));
        for (var i = 0; i < Limit; i++)
        {
            await ExpectAsync(HttpStatusCode.Unauthorized, TimedAsync(timings, () => attacker.SendAsync(HttpMethod.Get, "/admin/policies", key: AdminKeys.NewKey())));
        }

        await ExpectAsync(HttpStatusCode.TooManyRequests, TimedAsync(timings, () => attacker.SendAsync(HttpMethod.Get, "/admin/policies", key: AdminKeys.NewKey())));
        await ExpectAsync(HttpStatusCode.TooManyRequests, TimedAsync(timings, () => attacker.SendAsync(HttpMethod.Get, "/admin/policies", key: AdminKeys.ConfigReader)));
        await ExpectAsync(HttpStatusCode.OK, TimedAsync(timings, () => colleague.GetAsync("/admin/policies")));

        Assert.True(timings.Max() <= LongestAcceptableRequest, $"an admin request took {timings.Max().TotalMilliseconds:F0} ms during the outage");

        if (outage == RedisOutage.Killed)
        {
            await redis.RestartAsync();
        }
        else
        {
            await redis.ThawAsync();
        }

        // Shared again = a new address's failure lands in this Redis.
        var n = 0;
        var back = Stopwatch.GetTimestamp();
        var shared = await Eventually.TrueAsync(
            async () =>
            {
                var address = $"127.0.76.{++n}";
                using var guesser = new AdminApi(gateway, http: TestClients.From(address, gateway.AdminAddress));
                using var response = await guesser.SendAsync(HttpMethod.Get, "/admin/policies", key: AdminKeys.NewKey());
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
                return await redis.KeyExistsAsync($"rl:fw:{{{RedisKeys.AdminAuthFailures(config.KeyPrefix, address)}}}");
            },
            TimeSpan.FromSeconds(20));
        Assert.True(shared, "failures were not counted in Redis again within 20 s of its return");
        Assert.True(Stopwatch.GetElapsedTime(back) <= TimeSpan.FromSeconds(15), $"shared again only after {Stopwatch.GetElapsedTime(back).TotalSeconds:F1} s");

        // The lockout found while Redis was away lasts its window, although Redis never heard of it.
        await ExpectAsync(HttpStatusCode.TooManyRequests, attacker.SendAsync(HttpMethod.Get, "/admin/policies", key: AdminKeys.ConfigReader));
        await ExpectAsync(HttpStatusCode.OK, colleague.GetAsync("/admin/policies"));
    }

    private static async Task<HttpResponseMessage> TimedAsync(List<TimeSpan> timings, Func<Task<HttpResponseMessage>> send)
    {
        var started = Stopwatch.GetTimestamp();
        var response = await send();
        timings.Add(Stopwatch.GetElapsedTime(started));
        return response;
    }

    private static async Task ExpectAsync(HttpStatusCode expected, Task<HttpResponseMessage> send)
    {
        using var response = await send;
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }
}
