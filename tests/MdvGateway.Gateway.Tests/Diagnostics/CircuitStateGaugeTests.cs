using System.Diagnostics.Metrics;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;
using MdvGateway.Gateway.Tests.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Diagnostics;

/// <summary>
/// <c>mdv_gateway_redis_circuit_state</c> through a whole outage: closed, open, half-open once the break is over
/// (no event marks that moment, so the gauge must ask the breaker), and closed again after a successful probe.
/// </summary>
public sealed class CircuitStateGaugeTests : IDisposable
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly FlakyStore _store;
    private readonly RateLimitEvaluator _evaluator;
    private readonly RateLimitPolicy _policy;
    private readonly MeterListener _listener = new();
    private readonly IMeterFactory _meterFactory;
    private int? _gauge;

    public CircuitStateGaugeTests()
    {
        var configuration = TestConfiguration.With(("Redis:BreakAfterFailures", "2"), ("Redis:BreakDuration", "00:00:05"));
        var settings = new GatewaySettingsMonitor(configuration, GatewaySettings.TryLoad(configuration, out _)!, NullLogger<GatewaySettingsMonitor>.Instance);
        _meterFactory = _services.GetRequiredService<IMeterFactory>();
        var metrics = new GatewayMetrics(_meterFactory);
        var breaker = new RedisCircuitBreaker(_time, () => settings.Current.Redis);
        _store = new FlakyStore(breaker);
        _evaluator = new RateLimitEvaluator(
            settings,
            _store,
            breaker,
            new LocalFallbackLimiter(),
            new OverLimitCache(_time),
            metrics,
            NullLogger<RateLimitEvaluator>.Instance);
        _policy = settings.Current.RateLimits.Resolve("per-ip")!;

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, _meterFactory) && instrument.Name == "mdv.gateway.redis.circuit_state")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<int>((_, value, _, _) => _gauge = value);
        _listener.Start();
    }

    [Fact]
    public async Task Gauge_FollowsTheBreaker_ClosedOpenHalfOpenClosed()
    {
        Assert.Equal(0, Observe());

        _store.Failing = true;
        await _evaluator.EvaluateAsync(_policy, Partition);
        Assert.Equal(0, Observe());
        await _evaluator.EvaluateAsync(_policy, Partition);
        Assert.Equal(1, Observe());

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Equal(1, Observe());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(2, Observe());

        _store.Failing = false;
        var decision = await _evaluator.EvaluateAsync(_policy, Partition);
        Assert.Equal(DecisionSource.Redis, decision.Source);
        Assert.Equal(0, Observe());
    }

    private static LimitPartition Partition => LimitPartition.Of("203.0.113.9", "203.0.113.9");

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    private int? Observe()
    {
        _gauge = null;
        _listener.RecordObservableInstruments();
        return _gauge;
    }

    /// <summary>
    /// Stands in for Redis and the batcher: answers, or fails like an unreachable server, telling the breaker about each
    /// call as the batcher does.
    /// </summary>
    private sealed class FlakyStore(RedisCircuitBreaker breaker) : IRateLimitStore
    {
        public bool Failing { get; set; }

        public ValueTask<StoreAnswer> DecideAsync(RateLimitPolicy policy, LimitPartition partition, string? strikeClient)
        {
            if (Failing)
            {
                breaker.RecordFailure();
                return ValueTask.FromResult(StoreAnswer.Unanswered(StoreStatus.Failed));
            }

            breaker.RecordSuccess();
            return ValueTask.FromResult(new StoreAnswer(StoreStatus.Ok, [.. policy.Limits.Select(l => LimitOutcome.Admitted(l, l.PermitLimit - 1))], false, null));
        }
    }
}
