using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Redis;

public sealed class RedisCircuitBreakerTests
{
    private static readonly TimeSpan BreakDuration = TimeSpan.FromSeconds(5);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly RedisOptions _options = new() { BreakAfterFailures = 3, BreakDuration = BreakDuration };
    private readonly List<CircuitState> _changes = [];

    private RedisCircuitBreaker Breaker()
    {
        var breaker = new RedisCircuitBreaker(_time, () => _options);
        breaker.StateChanged += _changes.Add;
        return breaker;
    }

    private static void Fail(RedisCircuitBreaker breaker, int times)
    {
        for (var i = 0; i < times; i++)
        {
            breaker.RecordFailure();
        }
    }

    private RedisCircuitBreaker OpenBreaker()
    {
        var breaker = Breaker();
        Fail(breaker, _options.BreakAfterFailures);
        Assert.Equal(CircuitState.Open, breaker.State);
        return breaker;
    }

    [Fact]
    public void NewBreaker_IsClosedAndLetsRequestsThrough()
    {
        var breaker = Breaker();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryEnter());
        Assert.True(breaker.TryEnter());
        Assert.Empty(_changes);
    }

    [Fact]
    public void RecordFailure_BelowThreshold_StaysClosed()
    {
        var breaker = Breaker();

        Fail(breaker, 2);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryEnter());
        Assert.Empty(_changes);
    }

    [Fact]
    public void RecordFailure_AtThreshold_Opens()
    {
        var breaker = Breaker();

        Fail(breaker, 3);

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.TryEnter());
        Assert.Equal([CircuitState.Open], _changes);
    }

    [Fact]
    public void RecordFailure_ThresholdOfOne_OpensAtFirstFailure()
    {
        _options.BreakAfterFailures = 1;
        var breaker = Breaker();

        breaker.RecordFailure();

        Assert.False(breaker.TryEnter());
    }

    [Fact]
    public void RecordFailure_ThresholdLoweredByReload_AppliesToNextFailure()
    {
        var breaker = Breaker();
        breaker.RecordFailure();

        _options.BreakAfterFailures = 2;
        breaker.RecordFailure();

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void TryEnter_WhileOpen_RefusesUntilBreakDurationEnds()
    {
        var breaker = OpenBreaker();

        _time.Advance(BreakDuration - TimeSpan.FromTicks(1));

        Assert.False(breaker.TryEnter());
        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void TryEnter_AfterBreakDuration_AllowsExactlyOneProbe()
    {
        var breaker = OpenBreaker();

        _time.Advance(BreakDuration);

        Assert.Equal(CircuitState.HalfOpen, breaker.State);
        Assert.True(breaker.TryEnter());
        Assert.False(breaker.TryEnter());
        Assert.False(breaker.TryEnter());
    }

    [Fact]
    public void TryEnter_ProbeInFlightLongAfterBreakDuration_StillAllowsOnlyOne()
    {
        var breaker = OpenBreaker();
        _time.Advance(BreakDuration);
        Assert.True(breaker.TryEnter());

        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.False(breaker.TryEnter());
    }

    [Fact]
    public void RecordSuccess_AfterProbe_Closes()
    {
        var breaker = OpenBreaker();
        _time.Advance(BreakDuration);
        Assert.True(breaker.TryEnter());

        breaker.RecordSuccess();

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryEnter());
        Assert.True(breaker.TryEnter());
        Assert.Equal([CircuitState.Open, CircuitState.Closed], _changes);
    }

    [Fact]
    public void RecordSuccess_AfterProbe_ResetsFailureCount()
    {
        var breaker = OpenBreaker();
        _time.Advance(BreakDuration);
        Assert.True(breaker.TryEnter());
        breaker.RecordSuccess();

        Fail(breaker, 2);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryEnter());
    }

    [Fact]
    public void RecordFailure_OfProbe_ReopensForAnotherBreakDuration()
    {
        var breaker = OpenBreaker();
        _time.Advance(BreakDuration);
        Assert.True(breaker.TryEnter());

        breaker.RecordFailure();

        Assert.Equal(CircuitState.Open, breaker.State);
        Assert.False(breaker.TryEnter());
        _time.Advance(BreakDuration - TimeSpan.FromTicks(1));
        Assert.False(breaker.TryEnter());
        _time.Advance(TimeSpan.FromTicks(1));
        Assert.True(breaker.TryEnter());
        Assert.False(breaker.TryEnter());
    }

    [Fact]
    public void RecordFailure_OfProbe_DoesNotRaiseAnotherOpen()
    {
        var breaker = OpenBreaker();
        _time.Advance(BreakDuration);
        Assert.True(breaker.TryEnter());

        breaker.RecordFailure();

        Assert.Equal([CircuitState.Open], _changes);
    }

    [Fact]
    public void RecordSuccess_BetweenFailures_ResetsConsecutiveCount()
    {
        var breaker = Breaker();

        Fail(breaker, 2);
        breaker.RecordSuccess();
        Fail(breaker, 2);

        Assert.Equal(CircuitState.Closed, breaker.State);
        Assert.True(breaker.TryEnter());
        Assert.Empty(_changes);

        breaker.RecordFailure();

        Assert.Equal(CircuitState.Open, breaker.State);
    }

    [Fact]
    public void RecordSuccess_WhileClosed_RaisesNothing()
    {
        var breaker = Breaker();
        breaker.RecordFailure();

        breaker.RecordSuccess();
        breaker.RecordSuccess();

        Assert.Empty(_changes);
    }

    [Fact]
    public void StateChanged_FullCycle_RaisedOncePerTransition()
    {
        var breaker = OpenBreaker();
        _time.Advance(BreakDuration);
        breaker.TryEnter();
        breaker.RecordSuccess();

        Fail(breaker, 3);

        Assert.Equal([CircuitState.Open, CircuitState.Closed, CircuitState.Open], _changes);
    }

    [Fact]
    public void TryEnter_ConcurrentCallersAfterBreakDuration_ExactlyOneProbes()
    {
        var breaker = OpenBreaker();
        _time.Advance(BreakDuration);

        var results = new bool[64];
        Parallel.For(0, results.Length, i => results[i] = breaker.TryEnter());

        Assert.Single(results, r => r);
    }
}
