using System.Diagnostics.Metrics;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using RedisRateLimiting;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.RateLimiting;

/// <summary>
/// The engine against its reference, RedisRateLimiting's sliding window, on the same Redis and the same request
/// sequence: the engine never admits a request the library refuses, and refuses one the library admits only where
/// its sub-window layout says it may (the library's own admissions reach the limit in a window one granularity longer).
/// </summary>
/// <remarks>
/// Requests sit on a 30 ms grid and the window is 1 s, so no earlier request is ever within 10 ms of leaving the
/// window when a request arrives: the two clocks (the library's node clock, the engine's Redis clock, both read within
/// a few milliseconds of each other) cannot disagree about an edge. A request that arrived too late for its slot
/// (a busy machine) is compared only when it is still clear of every edge. After an allowed divergence the two have
/// different histories, so both start afresh on new partitions.
/// </remarks>
public sealed class ReferenceDifferentialTests
{
    private static readonly TimeSpan Window = TimeSpan.FromSeconds(1);
    private const int Limit = 5;
    private const int SlotMs = 30;
    private const int Slots = 240;

    [Fact]
    public async Task Engine_NeverAdmitsWhereTheLibraryRefuses_AndRefusesWhereItAdmitsOnlyWithinTheSubWindowBound()
    {
        var prefix = "diff-" + Guid.NewGuid().ToString("N")[..8];
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:api:ClusterId"] = "app",
            ["ReverseProxy:Clusters:app:Destinations:d1:Address"] = "http://127.0.0.1:5080/",
            ["Redis:Configuration"] = TestEnvironment.Redis,
            ["Redis:KeyPrefix"] = prefix,
            ["RateLimiting:DefaultPolicy"] = "ref",
            ["RateLimiting:Policies:ref:PermitLimit"] = Limit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["RateLimiting:Policies:ref:Window"] = "00:00:01",
            ["RateLimiting:Policies:ref:ReserveAhead"] = "false",
            ["Admin:Urls"] = "http://127.0.0.1:1",
        }).Build();
        var settings = new GatewaySettingsMonitor(configuration, GatewaySettings.TryLoad(configuration, out var errors) ?? throw new InvalidOperationException(string.Join("; ", errors)), NullLogger<GatewaySettingsMonitor>.Instance);
        await using var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
        var metrics = new GatewayMetrics(services.GetRequiredService<IMeterFactory>());
        await using var connection = new RedisConnection(new GatewayRedisConfiguration(TestEnvironment.Redis, 2000), NullLogger<RedisConnection>.Instance);
        var multiplexer = await connection.GetAsync();
        var breaker = new RedisCircuitBreaker(TimeProvider.System, () => settings.Current.Redis);
        var batcher = new RedisDecisionBatcher(connection, settings, breaker, metrics, TimeProvider.System, new GatewayRedisConfiguration(TestEnvironment.Redis, 2000), NullLogger<RedisDecisionBatcher>.Instance);
        await using var engine = new RedisRateLimitStore(batcher, metrics, TimeProvider.System);
        var policy = settings.Current.RateLimits.Resolve("ref")!;
        var granularity = TimeSpan.FromMilliseconds(policy.Limits[0].GranularityMs);

        var random = new Random(20261207);
        var round = 0;
        var library = NewLibrary(multiplexer, prefix, round);
        // Each admission as the interval in which it happened: from before the library's call to after the engine's.
        var libraryAdmitted = new List<(DateTimeOffset From, DateTimeOffset To)>();
        var engineAdmitted = new List<(DateTimeOffset From, DateTimeOffset To)>();

        // Warm up both (JIT, script loading) on partitions of their own, so the first calls are not a second late.
        await using (var warmUp = NewLibrary(multiplexer, prefix, -1))
        {
            using var _ = await warmUp.AcquireAsync(1);
        }

        await engine.DecideAsync(policy, LimitPartition.Of("warm-up", "warm-up"), null);

        int agreedAdmit = 0, agreedRefuse = 0, allowedDivergences = 0, skipped = 0;
        var start = DateTimeOffset.UtcNow;
        for (var slot = 0; slot < Slots; slot++)
        {
            // Bursty: some slots send nothing, some send a request.
            var due = start + TimeSpan.FromMilliseconds(slot * SlotMs);
            if (random.Next(3) == 0)
            {
                continue;
            }

            var wait = due - DateTimeOffset.UtcNow;
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait);
            }

            var at = DateTimeOffset.UtcNow;
            using var lease = await library.AcquireAsync(1);
            var byEngine = await engine.DecideAsync(policy, new LimitPartition($"c{round}", RedisKeys.Bucket($"c{round}")), null);
            var after = DateTimeOffset.UtcNow;
            Assert.Equal(StoreStatus.Ok, byEngine.Status);
            var engineAdmits = byEngine.Outcomes[0].Acquired;

            // Clear of every edge: no earlier admission can leave the window while this request's calls run, give or take
            // 10 ms.
            var clear = libraryAdmitted.Concat(engineAdmitted)
                .All(a => a.To + Window < at - TimeSpan.FromMilliseconds(10) || a.From + Window > after + TimeSpan.FromMilliseconds(10));
            if (lease.IsAcquired)
            {
                libraryAdmitted.Add((at, after));
            }

            if (engineAdmits)
            {
                engineAdmitted.Add((at, after));
            }

            if (lease.IsAcquired == engineAdmits)
            {
                _ = engineAdmits ? agreedAdmit++ : agreedRefuse++;
                continue;
            }

            if (clear)
            {
                Assert.False(engineAdmits, $"slot {slot}: the engine admitted a request the library refused");

                // The library admitted because a permit left its exact window; the engine still counted it, which it may
                // only do for a request admitted within one granularity more than the window.
                var inLongerWindow = libraryAdmitted.Count(a => a.To > at - Window - granularity && a.From < at);
                Assert.True(inLongerWindow >= Limit, $"slot {slot}: the engine refused with only {inLongerWindow} admissions in the last {Window + granularity}");
                allowedDivergences++;
            }
            else
            {
                skipped++;
            }

            // Different histories from here: both start afresh.
            round++;
            await library.DisposeAsync();
            library = NewLibrary(multiplexer, prefix, round);
            libraryAdmitted.Clear();
            engineAdmitted.Clear();
        }

        await library.DisposeAsync();
        Assert.True(agreedAdmit >= 20 && agreedRefuse >= 20, $"the sequence exercised too little: {agreedAdmit} admitted and {agreedRefuse} refused by both");
        Assert.True(skipped <= Slots / 10, $"{skipped} requests were too close to an edge to compare: the machine was too slow for the grid");
        _ = allowedDivergences;
    }

    private static RedisSlidingWindowRateLimiter<string> NewLibrary(IConnectionMultiplexer multiplexer, string prefix, int round)
        => new($"{prefix}:lib:{round}", new RedisSlidingWindowRateLimiterOptions
        {
            PermitLimit = Limit,
            Window = Window,
            ConnectionMultiplexerFactory = () => multiplexer,
        });
}
