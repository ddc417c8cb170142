using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Redis;
using MdvGateway.Gateway.Tests.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Admin;

/// <summary>
/// The distributed limit around its store: lockouts learnt once and then answered locally, the per-node fallback while
/// the store is down or hung, and the circuit that stops asking it. The store is an in-memory stand-in for Redis.
/// </summary>
public sealed class FailedAuthenticationLimiterTests : IDisposable
{
    private const int Limit = 3;
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromMilliseconds(250);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.Zero));
    private readonly InMemoryFailedAuthenticationStore _store;
    private readonly GatewaySettingsMonitor _settings;

    public FailedAuthenticationLimiterTests()
    {
        _store = new InMemoryFailedAuthenticationStore(_time);
        var configuration = TestConfiguration.With(
            ("Redis:TimeoutMs", "250"),
            ("Redis:BreakAfterFailures", "2"),
            ("Redis:BreakDuration", "00:00:05"));
        _settings = new GatewaySettingsMonitor(configuration, GatewaySettings.TryLoad(configuration, out _)!, NullLogger<GatewaySettingsMonitor>.Instance);
    }

    public void Dispose() => _settings.Dispose();

    private FailedAuthenticationLimiter Node(LocalFailureTable? local = null)
        => new(_store, local ?? new LocalFailureTable(_time), _settings, _time, NullLogger<FailedAuthenticationLimiter>.Instance);

    [Fact]
    public async Task RecordFailure_FailuresOnTwoNodes_LockTheAddressOutOnBothAtTheLimit()
    {
        var first = Node();
        var second = Node();

        Assert.Equal(new FailureVerdict(true, null), await first.RecordFailureAsync("10.0.0.1", Limit, Window));
        Assert.Equal(new FailureVerdict(true, null), await second.RecordFailureAsync("10.0.0.1", Limit, Window));
        Assert.Null(await first.LockedOutForAsync("10.0.0.1", Limit, Window));
        _time.Advance(TimeSpan.FromSeconds(10));
        Assert.Equal(new FailureVerdict(true, TimeSpan.FromSeconds(50)), await first.RecordFailureAsync("10.0.0.1", Limit, Window));

        Assert.Equal(TimeSpan.FromSeconds(50), first.KnownLockout("10.0.0.1"));
        Assert.Null(second.KnownLockout("10.0.0.1"));
        Assert.Equal(TimeSpan.FromSeconds(50), await second.LockedOutForAsync("10.0.0.1", Limit, Window));
        Assert.Equal(TimeSpan.FromSeconds(50), second.KnownLockout("10.0.0.1"));
        Assert.Equal(3, _store.CountOf("10.0.0.1"));
    }

    [Fact]
    public async Task RecordFailure_AddressLockedOutByAnotherNode_IsRefusedNotCounted()
    {
        var first = Node();
        var second = Node();
        for (var i = 0; i < Limit; i++)
        {
            await first.RecordFailureAsync("10.0.0.1", Limit, Window);
        }

        var verdict = await second.RecordFailureAsync("10.0.0.1", Limit, Window);

        Assert.Equal(new FailureVerdict(false, Window), verdict);
        Assert.Equal(Limit, _store.CountOf("10.0.0.1"));
        Assert.Equal(Window, second.KnownLockout("10.0.0.1"));
    }

    [Fact]
    public async Task KnownLockout_OnceLearnt_AnswersWithoutTheStoreUntilTheLockoutEnds()
    {
        var node = Node();
        for (var i = 0; i < Limit; i++)
        {
            await node.RecordFailureAsync("10.0.0.1", Limit, Window);
        }

        var calls = _store.Calls;
        for (var i = 0; i < 100; i++)
        {
            Assert.NotNull(node.KnownLockout("10.0.0.1"));
            Assert.NotNull(await node.LockedOutForAsync("10.0.0.1", Limit, Window));
        }

        Assert.Equal(calls, _store.Calls);
        _time.Advance(Window);
        Assert.Null(node.KnownLockout("10.0.0.1"));
        Assert.Null(await node.LockedOutForAsync("10.0.0.1", Limit, Window));
        Assert.Equal(calls + 1, _store.Calls);
    }

    [Fact]
    public async Task LockedOutFor_AfterASprayFromManyAddresses_IsNullForAnAddressThatDidNotFail()
    {
        var node = Node(new LocalFailureTable(_time, capacity: 100));
        for (var i = 0; i < 1_000; i++)
        {
            var sprayer = $"10.0.{i >> 8}.{i & 255}";
            for (var j = 0; j < Limit; j++)
            {
                await node.RecordFailureAsync(sprayer, Limit, Window);
            }
        }

        Assert.Null(await node.LockedOutForAsync("192.0.2.1", Limit, Window));
        Assert.Equal(new FailureVerdict(true, null), await node.RecordFailureAsync("192.0.2.1", Limit, Window));

        // Locked-out sprayers the bounded table forgot are still locked out: the store still says so.
        Assert.Null(node.KnownLockout("10.0.0.0"));
        Assert.NotNull(await node.LockedOutForAsync("10.0.0.0", Limit, Window));
    }

    [Fact]
    public async Task RecordFailure_StoreDown_CountsOnThisNodeAndFailsOpenForValidKeys()
    {
        var node = Node();
        _store.Outage = StoreOutage.Down;

        for (var i = 1; i < Limit; i++)
        {
            Assert.Equal(new FailureVerdict(true, null), await node.RecordFailureAsync("10.0.0.1", Limit, Window));
        }

        Assert.Null(await node.LockedOutForAsync("10.0.0.1", Limit, Window));
        Assert.Equal(new FailureVerdict(true, Window), await node.RecordFailureAsync("10.0.0.1", Limit, Window));
        Assert.Equal(Window, await node.LockedOutForAsync("10.0.0.1", Limit, Window));
        Assert.Null(await node.LockedOutForAsync("10.0.0.2", Limit, Window));
        Assert.Equal(CircuitState.Open, node.Circuit);
    }

    [Fact]
    public async Task RecordFailure_StoreHung_AnswersFromThisNodeAfterTheRedisTimeout()
    {
        var node = Node();
        _store.Outage = StoreOutage.Hung;

        var failure = node.RecordFailureAsync("10.0.0.1", 1, Window).AsTask();
        var check = node.LockedOutForAsync("10.0.0.2", 1, Window).AsTask();
        _time.Advance(Timeout - TimeSpan.FromMilliseconds(1));
        Assert.False(failure.IsCompleted);
        Assert.False(check.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        Assert.Equal(new FailureVerdict(true, Window), await failure);
        Assert.Null(await check);
    }

    [Fact]
    public async Task Store_FailingRepeatedly_IsNotAskedWhileTheCircuitIsOpen_ThenSharedAgain()
    {
        var node = Node();
        _store.Outage = StoreOutage.Down;
        await node.RecordFailureAsync("10.0.0.1", Limit, Window);
        await node.RecordFailureAsync("10.0.0.1", Limit, Window);
        Assert.Equal(CircuitState.Open, node.Circuit);

        var calls = _store.Calls;
        await node.RecordFailureAsync("10.0.0.2", Limit, Window);
        await node.LockedOutForAsync("10.0.0.3", Limit, Window);
        Assert.Equal(calls, _store.Calls);

        _store.Outage = StoreOutage.None;
        _time.Advance(TimeSpan.FromSeconds(5));
        Assert.Equal(new FailureVerdict(true, null), await node.RecordFailureAsync("10.0.0.4", Limit, Window));
        Assert.Equal(CircuitState.Closed, node.Circuit);
        Assert.Equal(1, _store.CountOf("10.0.0.4"));
    }

    [Fact]
    public async Task LockoutCountedWhileTheStoreWasDown_HoldsAfterItReturns()
    {
        var node = Node();
        _store.Outage = StoreOutage.Down;
        for (var i = 0; i < Limit; i++)
        {
            await node.RecordFailureAsync("10.0.0.1", Limit, Window);
        }

        _store.Outage = StoreOutage.None;
        _time.Advance(TimeSpan.FromSeconds(5));

        Assert.Equal(Window - TimeSpan.FromSeconds(5), await node.LockedOutForAsync("10.0.0.1", Limit, Window));
        Assert.Equal(0, _store.CountOf("10.0.0.1"));
    }
}
