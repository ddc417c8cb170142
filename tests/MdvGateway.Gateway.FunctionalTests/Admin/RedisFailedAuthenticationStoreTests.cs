using System.Net;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>
/// The failed-authentication store and limiter against the real Redis, with as many client addresses as a test wants
/// (the admin listener takes the TCP peer's address and reads no forwarded header). They use a running gateway's Redis
/// connection and settings, so the gateway's own admin listener is one more node sharing the count.
/// </summary>
public sealed class RedisFailedAuthenticationStoreTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(5);

    private async Task<(GatewayServer Gateway, GatewayConfig Config)> StartAsync()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "Disable").WithAdminKeys()
            .Set("Admin:AuthFailureLimit", "1")
            .Set("Admin:AuthFailureWindow", "00:05:00");
        return (await AdminGateway.StartAsync(config.Values), config);
    }

    private static RedisFailedAuthenticationStore Store(GatewayServer gateway)
        => new(gateway.Services.GetRequiredService<RedisConnection>(), gateway.Services.GetRequiredService<GatewaySettingsMonitor>());

    private static FailedAuthenticationLimiter Node(GatewayServer gateway, LocalFailureTable local)
        => new(Store(gateway), local, gateway.Services.GetRequiredService<GatewaySettingsMonitor>(), TimeProvider.System, NullLogger<FailedAuthenticationLimiter>.Instance);

    [Fact]
    public async Task Store_ChecksCountNothing_FailuresAreCountedUpToTheLimitThenRefused()
    {
        var (gateway, config) = await StartAsync();
        await using var running = gateway;
        var store = Store(gateway);
        const string client = "198.51.100.7";

        for (var i = 0; i < 3; i++)
        {
            Assert.Null(await store.LockedOutForAsync(client, 3, Window));
        }

        Assert.Equal(new FailureVerdict(true, null), await store.RecordFailureAsync(client, 3, Window));
        Assert.Equal(new FailureVerdict(true, null), await store.RecordFailureAsync(client, 3, Window));
        var third = await store.RecordFailureAsync(client, 3, Window);
        var fourth = await store.RecordFailureAsync(client, 3, Window);
        var check = await store.LockedOutForAsync(client, 3, Window);

        Assert.True(third.Counted);
        Assert.False(fourth.Counted);
        foreach (var lockedFor in new[] { third.LockedFor, fourth.LockedFor, check })
        {
            Assert.NotNull(lockedFor);
            Assert.InRange(lockedFor.Value, TimeSpan.FromSeconds(1), Window + TimeSpan.FromSeconds(2));
        }

        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        var key = $"rl:fw:{{{RedisKeys.AdminAuthFailures(config.KeyPrefix, client)}}}";
        Assert.Equal(3, (int)await redis.GetDatabase().StringGetAsync(key));

        // A higher limit (a reload) applies to the window in force at once.
        Assert.Null(await store.LockedOutForAsync(client, 4, Window));
    }

    [Fact]
    public async Task SprayFrom20000Addresses_NeverLocksOutAValidKeyFromAFreshAddress_AndNodeMemoryStaysBounded()
    {
        var (gateway, _) = await StartAsync();
        await using var running = gateway;
        var sprayerTable = new LocalFailureTable(TimeProvider.System);
        var sprayed = Node(gateway, sprayerTable);
        var other = Node(gateway, new LocalFailureTable(TimeProvider.System));

        // Every address of 127.1.0.0/17 guesses once, with a limit of one: all 20000 are locked out.
        var verdicts = new FailureVerdict[20_000];
        await Parallel.ForAsync(0, verdicts.Length, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (i, _) =>
            verdicts[i] = await sprayed.RecordFailureAsync($"127.1.{i >> 8}.{i & 255}", 1, Window));

        Assert.All(verdicts, v => Assert.True(v.Counted && v.LockedFor is not null, v.ToString()));
        Assert.Equal(LocalFailureTable.MaxTrackedClients, sprayerTable.TrackedClients);

        // On every node, a fresh address is not locked out, and a sprayer still is (also one the table evicted).
        foreach (var node in new[] { sprayed, other })
        {
            Assert.Null(await node.LockedOutForAsync("127.2.0.1", 1, Window));
            Assert.NotNull(await node.LockedOutForAsync("127.1.0.1", 1, Window));
            Assert.NotNull(await node.LockedOutForAsync("127.1.78.31", 1, Window));
        }

        // The gateway's own admin listener shares the count.
        using var fresh = new AdminApi(gateway, AdminKeys.Reader, TestClients.From("127.2.0.2", gateway.AdminAddress));
        using var sprayer = new AdminApi(gateway, AdminKeys.Reader, TestClients.From("127.1.3.4", gateway.AdminAddress));
        using var freshAnswer = await fresh.GetAsync("/admin/bans");
        using var sprayerAnswer = await sprayer.GetAsync("/admin/bans");
        Assert.Equal(HttpStatusCode.OK, freshAnswer.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, sprayerAnswer.StatusCode);
    }
}
