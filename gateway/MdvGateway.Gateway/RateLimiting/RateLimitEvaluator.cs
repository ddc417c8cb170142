using System.Diagnostics;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Decides one policy for one partition: the over-limit cache first, then Redis within the configured timeout and
/// circuit, and <c>WhenStoreUnavailable</c> when Redis cannot answer.
/// </summary>
internal sealed partial class RateLimitEvaluator
{
    private readonly GatewaySettingsMonitor _settings;
    private readonly IRateLimitStore _store;
    private readonly RedisCircuitBreaker _breaker;
    private readonly LocalFallbackLimiter _fallback;
    private readonly OverLimitCache _overLimit;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<RateLimitEvaluator> _logger;

    public RateLimitEvaluator(
        GatewaySettingsMonitor settings,
        IRateLimitStore store,
        RedisCircuitBreaker breaker,
        LocalFallbackLimiter fallback,
        OverLimitCache overLimit,
        GatewayMetrics metrics,
        ILogger<RateLimitEvaluator> logger)
    {
        _settings = settings;
        _store = store;
        _breaker = breaker;
        _fallback = fallback;
        _overLimit = overLimit;
        _metrics = metrics;
        _logger = logger;
        _settings.Changed += _ => _overLimit.Clear();
        _breaker.StateChanged += OnCircuitStateChanged;
        _metrics.ObserveCircuit(() => _breaker.State);
    }

    /// <param name="policy">The policy of the route.</param>
    /// <param name="partitionValue">The client (or header digest) this request counts against.</param>
    public async ValueTask<RateLimitDecision> EvaluateAsync(RateLimitPolicy policy, string partitionValue)
    {
        var settings = _settings.Current;
        var limits = policy.Limits;
        var partitions = new string[limits.Length];
        var outcomes = new LimitOutcome[limits.Length];
        var cachedRejection = false;
        for (var i = 0; i < limits.Length; i++)
        {
            partitions[i] = RedisKeys.RateLimitPartition(settings.Redis.KeyPrefix, policy.Name, limits[i].Name, partitionValue);
            if (_overLimit.TryGetRetryAfter(partitions[i], out var retryAfter))
            {
                outcomes[i] = LimitOutcome.Rejected(limits[i], retryAfter);
                cachedRejection = true;
            }
        }

        if (cachedRejection)
        {
            // The request is refused whatever the other limits say; fill them without charging them.
            for (var i = 0; i < limits.Length; i++)
            {
                if (outcomes[i].Limit is null)
                {
                    outcomes[i] = LimitOutcome.Admitted(limits[i], 0);
                }
            }

            return Complete(policy, DecisionSource.OverLimitCache, outcomes);
        }

        if (!_breaker.TryEnter())
        {
            return WithoutStore(policy, partitions, settings.RateLimits.WhenStoreUnavailable);
        }

        var started = Stopwatch.GetTimestamp();
        try
        {
            // The wait is bounded by the Redis client's own timeout (Redis:TimeoutMs, see RedisConnection).
            if (limits.Length == 1)
            {
                outcomes[0] = await _store.AcquireAsync(partitions[0], limits[0]);
            }
            else
            {
                var pending = new Task<LimitOutcome>[limits.Length];
                for (var i = 0; i < limits.Length; i++)
                {
                    pending[i] = _store.AcquireAsync(partitions[i], limits[i]);
                }

                var all = await Task.WhenAll(pending);
                all.CopyTo(outcomes, 0);
            }

            _metrics.RedisCall(Stopwatch.GetElapsedTime(started), failed: false);
            _breaker.RecordSuccess();
        }
        catch (Exception ex)
        {
            // Whatever went wrong talking to the store, the request gets WhenStoreUnavailable, never a 500, and
            // the breaker hears about it (a probe that neither succeeds nor fails would keep the circuit open).
            _metrics.RedisCall(Stopwatch.GetElapsedTime(started), failed: true);
            _breaker.RecordFailure();
            Log.StoreFailed(_logger, policy.Name, ex.GetType().Name, ex.Message);
            return WithoutStore(policy, partitions, settings.RateLimits.WhenStoreUnavailable);
        }

        for (var i = 0; i < outcomes.Length; i++)
        {
            if (!outcomes[i].Acquired)
            {
                _overLimit.Add(partitions[i], outcomes[i].RetryAfter);
            }
        }

        return Complete(policy, DecisionSource.Redis, outcomes);
    }

    private RateLimitDecision WithoutStore(RateLimitPolicy policy, string[] partitions, StoreUnavailableBehavior behavior)
    {
        switch (behavior)
        {
            case StoreUnavailableBehavior.Allow:
                return Record(new RateLimitDecision(policy, RateLimitVerdict.AllowedWithoutStore, DecisionSource.None, []));
            case StoreUnavailableBehavior.Reject:
                return Record(new RateLimitDecision(policy, RateLimitVerdict.RejectedWithoutStore, DecisionSource.None, []));
            default:
                var outcomes = new LimitOutcome[partitions.Length];
                for (var i = 0; i < partitions.Length; i++)
                {
                    outcomes[i] = _fallback.Acquire(partitions[i], policy.Limits[i]);
                }

                return Complete(policy, DecisionSource.LocalFallback, outcomes);
        }
    }

    private RateLimitDecision Complete(RateLimitPolicy policy, DecisionSource source, LimitOutcome[] outcomes)
    {
        var rejected = Array.Exists(outcomes, o => !o.Acquired);
        var verdict = !rejected ? RateLimitVerdict.Admitted
            : policy.Mode == RateLimitMode.Shadow ? RateLimitVerdict.ShadowRejected
            : RateLimitVerdict.Rejected;
        return Record(new RateLimitDecision(policy, verdict, source, outcomes));
    }

    private RateLimitDecision Record(RateLimitDecision decision)
    {
        _metrics.Decision(decision);
        return decision;
    }

    private void OnCircuitStateChanged(CircuitState state)
    {
        if (state == CircuitState.Open)
        {
            Log.CircuitOpened(_logger, _settings.Current.RateLimits.WhenStoreUnavailable.ToString());
        }
        else
        {
            Log.CircuitClosed(_logger);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3001, Level = LogLevel.Warning, Message = "Rate-limit store failed for policy {Policy}: {ErrorType}: {Error}")]
        public static partial void StoreFailed(ILogger logger, string policy, string errorType, string error);

        [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Redis circuit opened; WhenStoreUnavailable={Behavior} applies until Redis answers again")]
        public static partial void CircuitOpened(ILogger logger, string behavior);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Redis circuit closed; distributed rate limiting resumed")]
        public static partial void CircuitClosed(ILogger logger);
    }
}
