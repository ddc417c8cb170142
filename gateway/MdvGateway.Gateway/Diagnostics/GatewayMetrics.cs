using System.Diagnostics;
using System.Diagnostics.Metrics;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.Diagnostics;

/// <summary>
/// Every instrument the gateway publishes, on the meter <c>MdvGateway.Gateway</c>. Tags never carry a client
/// address: cardinality must not grow with traffic.
/// </summary>
internal sealed class GatewayMetrics
{
    public const string MeterName = "MdvGateway.Gateway";

    private readonly Counter<long> _decisions;
    private readonly Counter<long> _nearLimit;
    private readonly Histogram<double> _redisDuration;
    private readonly Histogram<int> _redisBatchSize;
    private readonly Counter<long> _redisErrors;
    private readonly Counter<long> _reservedPermits;
    private readonly Counter<long> _bansIssued;
    private readonly Counter<long> _banBlocked;
    private readonly Counter<long> _strikes;
    private readonly Counter<long> _strikeErrors;
    private long _banListLoadedAt;
    private readonly Counter<long> _auditQueued;
    private readonly Counter<long> _auditPublished;
    private readonly Counter<long> _auditSpooled;
    private readonly Counter<long> _auditDropped;
    private readonly Counter<long> _auditMessages;
    private Func<CircuitState> _circuitState = static () => CircuitState.Closed;
    private Func<int> _activeBans = static () => 0;
    private Func<int> _refusalClients = static () => 0;
    private Func<int> _auditAggregates = static () => 0;
    private Func<int> _overLimit = static () => 0;
    private Func<long> _auditSpoolBytes = static () => 0;
    private Func<int> _auditQueueLength = static () => 0;
    private Func<bool>? _auditBrokerConnected;

    public GatewayMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _decisions = meter.CreateCounter<long>("mdv.gateway.ratelimit.decisions", "{request}", "Rate-limit decisions by policy, outcome and source.");
        _nearLimit = meter.CreateCounter<long>("mdv.gateway.ratelimit.near_limit", "{request}", "Admitted requests that left less than 10% of a limit.");
        _redisDuration = meter.CreateHistogram<double>("mdv.gateway.redis.duration", "s", "Time the request path spent waiting on Redis.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1] });
        _redisBatchSize = meter.CreateHistogram<int>("mdv.gateway.redis.batch_size", "{request}",
            "Requests counted by one rate-limit call to Redis (a client's requests that queued behind the call in flight are counted together).",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 2, 4, 8, 16, 32, 64, 128, 256] });
        _reservedPermits = meter.CreateCounter<long>("mdv.gateway.ratelimit.reserved_permits", "{permit}",
            "Permits a busy partition far from its limit had counted in Redis ahead of its next requests (event=reserved), and unused ones given back (event=returned).");
        _redisErrors = meter.CreateCounter<long>("mdv.gateway.redis.errors", "{error}", "Redis calls on the request path that failed or timed out.");
        meter.CreateObservableGauge("mdv.gateway.redis.circuit_state", () => (int)_circuitState(), "{state}", "0 closed, 1 open, 2 half-open (the break is over; the next request probes Redis).");
        _strikes = meter.CreateCounter<long>("mdv.gateway.bans.strikes", "{strike}", "Rate-limit rejections counted as strikes towards a ban.");
        _strikeErrors = meter.CreateCounter<long>("mdv.gateway.bans.strike_errors", "{error}",
            "Strikes or automatic bans Redis could not record (timeout, disconnected): the rejection did not count towards a ban, or its ban holds on this node only.");
        meter.CreateObservableGauge("mdv.gateway.bans.sync_age", ObserveBanListAge, "s",
            "Seconds since this node last loaded the whole ban list from Redis (every 10 s normally; absent before the first load).");
        _bansIssued = meter.CreateCounter<long>("mdv.gateway.bans.issued", "{ban}", "Bans issued by this node, by origin and level.");
        _banBlocked = meter.CreateCounter<long>("mdv.gateway.bans.blocked", "{request}", "Requests refused because the client is banned.");
        meter.CreateObservableGauge("mdv.gateway.bans.active", () => _activeBans(), "{ban}", "Active bans in this node's cache.");
        _auditQueued = meter.CreateCounter<long>("mdv.gateway.audit.queued", "{event}", "Audit events accepted into the in-memory queue.");
        _auditPublished = meter.CreateCounter<long>("mdv.gateway.audit.published", "{event}", "Audit events the broker confirmed, by source (queue or spool).");
        _auditSpooled = meter.CreateCounter<long>("mdv.gateway.audit.spooled", "{event}", "Audit events written to the disk spool, by reason.");
        _auditDropped = meter.CreateCounter<long>("mdv.gateway.audit.dropped", "{event}", "Audit events lost, by reason (spool_full, spool_write_failed, spool_unreadable, spool_closed).");
        _auditMessages = meter.CreateCounter<long>("mdv.gateway.audit.messages", "{message}",
            "Audit messages the broker confirmed, by message_type (AuditEventsRecorded carries up to Audit:MaxEventsPerMessage events, AuditEventRecorded one).");
        meter.CreateObservableGauge("mdv.gateway.rate_limit.over_limit_partitions", () => _overLimit(), "{partition}",
            "Partitions this node refuses locally until their window frees a permit (at most 100,000; expired entries are swept at most once a second when full).");
        meter.CreateObservableGauge("mdv.gateway.request_log.refusal_clients", () => _refusalClients(), "{client}",
            "Clients whose refusals this node counts one by one in the current refusal-summary interval (at most RequestLog:RefusalTrackedClients; cleared at each summary).");
        meter.CreateObservableGauge("mdv.gateway.audit.aggregates", () => _auditAggregates(), "{bucket}",
            "Audit aggregate buckets (client, or network past the bound) counting refusals for the next flush; bounded, see Audit in the README.");
        meter.CreateObservableGauge("mdv.gateway.audit.spool.size", () => _auditSpoolBytes(), "By", "Bytes of audit events waiting in the disk spool.");
        meter.CreateObservableGauge("mdv.gateway.audit.queue.length", () => _auditQueueLength(), "{event}", "Audit events waiting in the in-memory queue.");
        meter.CreateObservableGauge("mdv.gateway.audit.broker.connected", ObserveBroker, "{state}",
            "1 while the audit publisher's last declaration or publish to RabbitMQ was confirmed, 0 while it spools (absent with Audit:Enabled false).");
    }

    public void Decision(RateLimitDecision decision)
    {
        var outcome = decision.Verdict switch
        {
            RateLimitVerdict.Admitted => "allowed",
            RateLimitVerdict.Rejected => "rejected",
            RateLimitVerdict.ShadowRejected => "shadow_rejected",
            RateLimitVerdict.AllowedWithoutStore => "allowed_without_store",
            _ => "rejected_without_store",
        };
        var source = decision.Source switch
        {
            DecisionSource.Redis => "redis",
            DecisionSource.OverLimitCache => "local_cache",
            DecisionSource.LocalFallback => "local_fallback",
            _ => "none",
        };
        _decisions.Add(1, new TagList { { "policy", decision.Policy.Name }, { "outcome", outcome }, { "source", source } });

        if (decision.Verdict == RateLimitVerdict.Admitted)
        {
            foreach (var o in decision.Outcomes)
            {
                if (o.Remaining * 10 < o.Limit.PermitLimit)
                {
                    _nearLimit.Add(1, new TagList { { "policy", decision.Policy.Name }, { "limit", o.Limit.Name } });
                }
            }
        }
    }

    public void Exempt(RateLimitPolicy policy)
        => _decisions.Add(1, new TagList { { "policy", policy.Name }, { "outcome", "exempt" }, { "source", "none" } });

    public void RedisCall(TimeSpan elapsed, bool failed)
    {
        _redisDuration.Record(elapsed.TotalSeconds);
        if (failed)
        {
            _redisErrors.Add(1);
        }
    }

    /// <param name="requests">Requests of one partition counted by one script call.</param>
    public void RedisBatch(int requests) => _redisBatchSize.Record(requests);

    /// <param name="reserved">Permits one call counted ahead for the requests that follow.</param>
    /// <param name="returned">Unused permits of an earlier reserve that the call removed.</param>
    public void ReservedPermits(int reserved, int returned)
    {
        if (reserved > 0)
        {
            _reservedPermits.Add(reserved, new KeyValuePair<string, object?>("event", "reserved"));
        }

        if (returned > 0)
        {
            _reservedPermits.Add(returned, new KeyValuePair<string, object?>("event", "returned"));
        }
    }

    /// <summary>Where the circuit-state gauge reads from: the breaker itself, so half-open shows when the break ends.</summary>
    public void ObserveCircuit(Func<CircuitState> state) => _circuitState = state;

    public void Strike() => _strikes.Add(1);

    public void StrikeError() => _strikeErrors.Add(1);

    /// <summary>The whole ban list was loaded from Redis just now.</summary>
    public void BanListLoaded() => Volatile.Write(ref _banListLoadedAt, Stopwatch.GetTimestamp());

    public void BanIssued(string origin, int level)
        => _bansIssued.Add(1, new TagList { { "origin", origin }, { "level", level } });

    public void BanBlocked() => _banBlocked.Add(1);

    private IEnumerable<Measurement<double>> ObserveBanListAge()
    {
        var loadedAt = Volatile.Read(ref _banListLoadedAt);
        return loadedAt == 0 ? [] : [new Measurement<double>(Stopwatch.GetElapsedTime(loadedAt).TotalSeconds)];
    }

    /// <summary>Where the active-bans gauge reads from.</summary>
    public void ObserveActiveBans(Func<int> count) => _activeBans = count;

    public void ObserveRefusalClients(Func<int> count) => _refusalClients = count;

    public void ObserveAuditAggregates(Func<int> count) => _auditAggregates = count;

    public void ObserveOverLimit(Func<int> count) => _overLimit = count;

    public void AuditQueued(int count) => _auditQueued.Add(count);

    /// <param name="count">Events confirmed.</param>
    /// <param name="source"><c>queue</c> or <c>spool</c>.</param>
    public void AuditPublished(int count, string source) => _auditPublished.Add(count, new KeyValuePair<string, object?>("source", source));

    /// <param name="count">Messages confirmed.</param>
    /// <param name="messageType">The contract's name: <c>AuditEventsRecorded</c> or <c>AuditEventRecorded</c>.</param>
    public void AuditMessagesPublished(int count, string messageType) => _auditMessages.Add(count, new KeyValuePair<string, object?>("message_type", messageType));

    /// <param name="count">Events written.</param>
    /// <param name="reason"><c>broker_unavailable</c>, <c>queue_full</c> or <c>shutdown</c>.</param>
    public void AuditSpooled(int count, string reason) => _auditSpooled.Add(count, new KeyValuePair<string, object?>("reason", reason));

    /// <param name="count">Events lost.</param>
    /// <param name="reason"><c>spool_full</c>, <c>spool_write_failed</c>, <c>spool_unreadable</c> or <c>spool_closed</c> (after shutdown).</param>
    public void AuditDropped(int count, string reason) => _auditDropped.Add(count, new KeyValuePair<string, object?>("reason", reason));

    /// <summary>Where the broker gauge reads from; never called with <c>Audit:Enabled</c> false, so the gauge is absent.</summary>
    public void ObserveAuditBroker(Func<bool> connected) => _auditBrokerConnected = connected;

    /// <summary>Where the audit gauges read from.</summary>
    public void ObserveAudit(Func<long> spoolBytes, Func<int> queueLength)
    {
        _auditSpoolBytes = spoolBytes;
        _auditQueueLength = queueLength;
    }

    private IEnumerable<Measurement<int>> ObserveBroker()
        => _auditBrokerConnected is { } connected ? [new Measurement<int>(connected() ? 1 : 0)] : [];
}
