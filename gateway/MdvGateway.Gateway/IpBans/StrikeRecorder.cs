using System.Collections.Concurrent;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// Turns rate-limit refusals into strikes and, at the threshold, into a ban that this node enforces at once and every
/// other node within a pub/sub hop.
/// </summary>
/// <remarks>
/// <para>
/// A refusal Redis decided is counted as a strike by the same call (<c>decide.lua</c>), which also says when it earned
/// a ban. A refusal this node answered on its own (from its over-limit cache) is counted here, in memory, and flushed
/// every <see cref="FlushInterval"/> as one operation per client in the engine's batch calls, so a flood costs Redis one
/// strike operation per client per flush rather than one call per request. Redis sums the strikes of every node, and
/// the operation that reaches <c>StrikesBeforeBan</c> is the only one told to ban: the ban is issued once, within
/// <see cref="FlushInterval"/> and a round trip on this node and a pub/sub hop later on every other.
/// </para>
/// <para>
/// Memory is bounded: at most <see cref="MaxPendingClients"/> clients wait for a flush; a strike for one more client in
/// the same interval is dropped and counted in <c>mdv_gateway_bans_strike_errors_total</c>.
/// </para>
/// </remarks>
internal sealed partial class StrikeRecorder : IAsyncDisposable
{
    /// <summary>How often strikes counted on this node go to Redis.</summary>
    internal static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(50);

    /// <summary>The most clients with strikes waiting for a flush.</summary>
    internal const int MaxPendingClients = 100_000;

    private readonly IBanStore _store;
    private readonly BanCache _cache;
    private readonly GatewaySettingsMonitor _settings;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<StrikeRecorder> _logger;
    private readonly IAuditSink _audit;
    private readonly RedisDecisionBatcher _batcher;
    private readonly RedisCircuitBreaker _breaker;
    private readonly TimeProvider _time;
    private readonly ConcurrentDictionary<string, (int Count, string Policy)> _pending = new(StringComparer.Ordinal);
    private readonly Action<StrikeOperation, EarnedBan?, bool> _flushed;
    private readonly ITimer _flush;

    /// <summary>Automatic bans logged one by one: at most this many per second; the rest as one count (event 4004).</summary>
    internal const int BanLinesPerSecond = 20;

    private readonly LogBudget _banLines;
    private int _pendingClients;

    public StrikeRecorder(IBanStore store, BanCache cache, GatewaySettingsMonitor settings, GatewayMetrics metrics, ILogger<StrikeRecorder> logger, IAuditSink audit, RedisDecisionBatcher batcher, RedisCircuitBreaker breaker, TimeProvider time)
    {
        _audit = audit;
        _store = store;
        _cache = cache;
        _settings = settings;
        _metrics = metrics;
        _logger = logger;
        _batcher = batcher;
        _breaker = breaker;
        _time = time;
        _flushed = OnFlushed;
        _banLines = new LogBudget(BanLinesPerSecond, TimeSpan.FromSeconds(1), time);
        _flush = time.CreateTimer(static state => ((StrikeRecorder)state!).Flush(), this, FlushInterval, FlushInterval);
    }

    /// <summary>The name this node signs automatic bans with.</summary>
    public static string NodeId { get; } = $"gateway:{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Clients whose strikes wait for the next flush.</summary>
    internal int PendingClients => Volatile.Read(ref _pendingClients);

    /// <summary>
    /// The key a refusal of <paramref name="client"/> is a strike against, or null when its refusals are no strikes
    /// (bans off, an unknown client, an allowlisted address).
    /// </summary>
    public string? StrikeKey(ClientIdentity.ClientIdentity client)
    {
        var settings = _settings.Current;
        if (!settings.IpBans.Enabled || ReferenceEquals(client, ClientIdentity.ClientIdentity.Unknown) || settings.BanAllowlist.Contains(client.Address))
        {
            return null;
        }

        return client.Key;
    }

    /// <summary>Records that Redis counted one strike in the call that refused the request.</summary>
    public void Counted() => _metrics.Strike();

    /// <summary>Counts one strike on this node, for the next flush; never blocks, never throws.</summary>
    public void Count(string clientKey, RateLimitPolicy policy)
    {
        _metrics.Strike();
        while (true)
        {
            if (_pending.TryGetValue(clientKey, out var current))
            {
                if (_pending.TryUpdate(clientKey, (current.Count + 1, policy.Name), current))
                {
                    return;
                }

                continue;
            }

            if (Volatile.Read(ref _pendingClients) >= MaxPendingClients)
            {
                _metrics.StrikeError();
                return;
            }

            if (_pending.TryAdd(clientKey, (1, policy.Name)))
            {
                Interlocked.Increment(ref _pendingClients);
                return;
            }
        }
    }

    /// <summary>Issues a ban Redis said the client's strikes earned, in the background.</summary>
    public void Issue(string clientKey, RateLimitPolicy policy, EarnedBan earned) => _ = IssueAsync(clientKey, policy.Name, earned);

    public async ValueTask DisposeAsync()
    {
        await _flush.DisposeAsync();
        Flush();
    }

    /// <summary>Sends every client's strikes counted since the last flush, one operation each.</summary>
    internal void Flush()
    {
        if (_banLines.TakeSuppressed() is > 0 and var suppressed)
        {
            Log.BansNotLogged(_logger, suppressed);
        }

        if (_pending.IsEmpty)
        {
            return;
        }

        // While the circuit is open there is nowhere to count them, as for refusals decided by the local fallback.
        var send = _breaker.State == CircuitState.Closed;
        var now = _time.GetTimestamp();
        foreach (var key in _pending.Keys)
        {
            if (!_pending.TryRemove(key, out var strikes))
            {
                continue;
            }

            Interlocked.Decrement(ref _pendingClients);
            if (send)
            {
                _batcher.Enqueue(new StrikeOperation(key, strikes.Count, now, _flushed) { Policy = strikes.Policy });
            }
            else
            {
                _metrics.StrikeError();
            }
        }
    }

    private void OnFlushed(StrikeOperation operation, EarnedBan? earned, bool stored)
    {
        if (!stored)
        {
            _metrics.StrikeError();
            return;
        }

        if (earned is not null)
        {
            _ = IssueAsync(operation.ClientKey, operation.Policy ?? "?", earned);
        }
    }

    internal async Task IssueAsync(string clientKey, string policy, EarnedBan earned)
    {
        var settings = _settings.Current;
        var ban = new Ban
        {
            Target = clientKey,
            Origin = BanOrigins.Auto,
            Reason = $"{earned.Strikes} rate-limit rejections within {settings.IpBans.StrikeWindow} (policy {policy})",
            Level = earned.Level,
            CreatedAt = earned.At,
            ExpiresAt = earned.At + earned.Duration,
            CreatedBy = NodeId,
            Policy = policy,
            Strikes = earned.Strikes,
        };

        try
        {
            bool written;
            try
            {
                written = await _store.UpsertAsync(ban, keepLonger: true).WaitAsync(TimeSpan.FromMilliseconds(Math.Max(settings.Redis.TimeoutMs, 1000)));
            }
            catch
            {
                // Redis counted the strikes but did not take the ban: enforce it on this node at least.
                _cache.Upsert(ban, settings.ClientIp.IPv6PrefixLength);
                throw;
            }

            if (!written)
            {
                // A longer ban already stands (written by another node a moment ago): nothing new was issued, and this
                // node's cache must not replace that ban with the shorter one. The longer one reaches it on the channel.
                Log.LongerBanKept(_logger, clientKey, earned.Level);
                return;
            }

            // Enforce here at once; the other nodes hear it on the channel.
            _cache.Upsert(ban, settings.ClientIp.IPv6PrefixLength);
            _metrics.BanIssued(BanOrigins.Auto, earned.Level);
            _audit.Record(AuditEvents.BanIssued(ban));
            // The count of lines held back is written by the flush timer, within 50 ms of its second ending.
            if (_banLines.TryTake())
            {
                Log.BanIssued(_logger, clientKey, earned.Level, earned.Duration, policy, earned.Strikes);
            }
        }
        catch (Exception ex)
        {
            _metrics.StrikeError();
            Log.StrikeFailed(_logger, ex.GetType().Name, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4001, Level = LogLevel.Warning, Message = "Banned {Client} at level {Level} for {Duration} after {Strikes} strikes on policy {Policy}")]
        public static partial void BanIssued(ILogger logger, string client, int level, TimeSpan duration, string policy, int strikes);

        [LoggerMessage(EventId = 4004, Level = LogLevel.Warning, Message = "{Count} more automatic bans were issued in the last second and not logged one by one (each is in the audit trail and in mdv_gateway_bans_issued_total)")]
        public static partial void BansNotLogged(ILogger logger, long count);

        [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "{Client} earned a level {Level} ban, but a longer ban already stands; kept the longer one")]
        public static partial void LongerBanKept(ILogger logger, string client, int level);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Could not record a strike or issue its ban ({ErrorType}: {Error})")]
        public static partial void StrikeFailed(ILogger logger, string errorType, string error);
    }
}
