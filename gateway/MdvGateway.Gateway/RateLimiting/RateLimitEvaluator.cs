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
        _metrics.ObserveOverLimit(() => _overLimit.Count);
    }

    /// <param name="policy">The policy of the route.</param>
    /// <param name="partition">What this request counts against (client, route and client, or a header digest).</param>
    /// <param name="strikeClient">
    /// The client key a refusal is a strike against, when strikes apply to this request; the store counts it in the
    /// same call when it can (see <see cref="RateLimitDecision.StrikeCounted"/>).
    /// </param>
    public ValueTask<RateLimitDecision> EvaluateAsync(RateLimitPolicy policy, LimitPartition partition, string? strikeClient = null)
    {
        var limits = policy.Limits;
        if (_overLimit.TryGetRetryAfter(policy.Name, partition.Value, out var retryAfter, out var refusing) && refusing < limits.Length)
        {
            // The request is refused whatever the other limits say; fill them without charging them.
            var outcomes = new LimitOutcome[limits.Length];
            for (var i = 0; i < limits.Length; i++)
            {
                outcomes[i] = i == refusing ? LimitOutcome.Rejected(limits[i], retryAfter) : LimitOutcome.Admitted(limits[i], 0);
            }

            return ValueTask.FromResult(Complete(policy, DecisionSource.OverLimitCache, outcomes, strikeCounted: false, ban: null));
        }

        if (!_breaker.TryEnter())
        {
            return ValueTask.FromResult(WithoutStore(policy, partition, _settings.Current.RateLimits.WhenStoreUnavailable));
        }

        var pending = _store.DecideAsync(policy, partition, strikeClient);
        return pending.IsCompletedSuccessfully
            ? ValueTask.FromResult(FromStore(policy, partition, pending.Result))
            : AwaitStoreAsync(policy, partition, pending);
    }

    private async ValueTask<RateLimitDecision> AwaitStoreAsync(RateLimitPolicy policy, LimitPartition partition, ValueTask<StoreAnswer> pending)
        => FromStore(policy, partition, await pending);

    private RateLimitDecision FromStore(RateLimitPolicy policy, LimitPartition partition, StoreAnswer answer)
    {
        if (answer.Status != StoreStatus.Ok)
        {
            // The batcher has told the breaker about the call (once per call) and logged its failure; the request gets
            // WhenStoreUnavailable, never a 500.
            return WithoutStore(policy, partition, _settings.Current.RateLimits.WhenStoreUnavailable);
        }

        var outcomes = answer.Outcomes;
        var longest = -1;
        for (var i = 0; i < outcomes.Length; i++)
        {
            if (!outcomes[i].Acquired && (longest < 0 || outcomes[i].RetryAfter > outcomes[longest].RetryAfter))
            {
                longest = i;
            }
        }

        if (longest >= 0)
        {
            _overLimit.Add(policy.Name, partition.Value, outcomes[longest].RetryAfter, longest);
        }

        return Complete(policy, DecisionSource.Redis, outcomes, answer.StrikeCounted, answer.Ban);
    }

    private RateLimitDecision WithoutStore(RateLimitPolicy policy, LimitPartition partition, StoreUnavailableBehavior behavior)
    {
        switch (behavior)
        {
            case StoreUnavailableBehavior.Allow:
                return Record(new RateLimitDecision(policy, RateLimitVerdict.AllowedWithoutStore, DecisionSource.None, []));
            case StoreUnavailableBehavior.Reject:
                return Record(new RateLimitDecision(policy, RateLimitVerdict.RejectedWithoutStore, DecisionSource.None, []));
            default:
                var prefix = _settings.Current.Redis.KeyPrefix;
                var outcomes = new LimitOutcome[policy.Limits.Length];
                for (var i = 0; i < outcomes.Length; i++)
                {
                    var limit = policy.Limits[i];
                    outcomes[i] = _fallback.Acquire(RedisKeys.RateLimitPartition(prefix, policy.Name, limit.Name, partition.Value), limit);
                }

                return Complete(policy, DecisionSource.LocalFallback, outcomes, strikeCounted: false, ban: null);
        }
    }

    private RateLimitDecision Complete(RateLimitPolicy policy, DecisionSource source, LimitOutcome[] outcomes, bool strikeCounted, EarnedBan? ban)
    {
        var rejected = Array.Exists(outcomes, o => !o.Acquired);
        var verdict = !rejected ? RateLimitVerdict.Admitted
            : policy.Mode == RateLimitMode.Shadow ? RateLimitVerdict.ShadowRejected
            : RateLimitVerdict.Rejected;
        return Record(new RateLimitDecision(policy, verdict, source, outcomes) { StrikeCounted = strikeCounted, Ban = ban });
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
        [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Redis circuit opened; WhenStoreUnavailable={Behavior} applies until Redis answers again")]
        public static partial void CircuitOpened(ILogger logger, string behavior);

        [LoggerMessage(EventId = 3003, Level = LogLevel.Information, Message = "Redis circuit closed; distributed rate limiting resumed")]
        public static partial void CircuitClosed(ILogger logger);
    }
}
