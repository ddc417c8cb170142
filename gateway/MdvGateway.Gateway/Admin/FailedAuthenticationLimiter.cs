using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Limits failed admin authentications per client address across every gateway node: after <c>limit</c> failures
/// inside a window (counted in Redis, shared by all nodes, see <see cref="RedisFailedAuthenticationStore"/>), the
/// address is locked out until the window ends, whichever node it calls, so guessing cannot go faster than
/// <c>limit</c> keys per window. Successful requests are never counted. Each address has a partition of its own: no
/// address is ever locked out by another's failures.
/// </summary>
/// <remarks>
/// <para>
/// Lockouts this node has learnt are kept in a bounded <see cref="LocalFailureTable"/> until they end, so a locked-out
/// address is refused without a Redis call. An address not known to be locked out costs one call per request that
/// carries a key: a wrong key is counted (and refused 429 instead if the shared count already locks the address out),
/// a valid key is checked before it is let in.
/// </para>
/// <para>
/// When Redis cannot be reached (not connected, an error, no answer within <c>Redis:TimeoutMs</c>, or this limiter's
/// own circuit open after <c>Redis:BreakAfterFailures</c> failures in a row, for <c>Redis:BreakDuration</c>), it fails
/// open to a per-node count: the security team must always reach the admin API, and an outage never turns into a 5xx
/// or a wait. Failures are then counted by this node alone, with the same limit and window (an attacker spreading
/// guesses over N nodes gets N times the limit while Redis is away), and a valid key is let in unless this node itself
/// knows the address to be locked out. Lockouts found either way last their whole window, also after Redis returns.
/// </para>
/// </remarks>
internal sealed partial class FailedAuthenticationLimiter
{
    private readonly IFailedAuthenticationStore _store;
    private readonly LocalFailureTable _local;
    private readonly GatewaySettingsMonitor _settings;
    private readonly TimeProvider _time;
    private readonly ILogger<FailedAuthenticationLimiter> _logger;

    /// <summary>
    /// Its own circuit, not the public listener's: a few failed logins must not decide how the request path treats
    /// Redis, nor the other way round.
    /// </summary>
    private readonly RedisCircuitBreaker _breaker;

    public FailedAuthenticationLimiter(IFailedAuthenticationStore store, LocalFailureTable local, GatewaySettingsMonitor settings, TimeProvider time, ILogger<FailedAuthenticationLimiter> logger)
    {
        _store = store;
        _local = local;
        _settings = settings;
        _time = time;
        _logger = logger;
        _breaker = new RedisCircuitBreaker(time, () => settings.Current.Redis);
        _breaker.StateChanged += state =>
        {
            if (state == CircuitState.Open)
            {
                Log.CircuitOpened(_logger);
            }
            else
            {
                Log.CircuitClosed(_logger);
            }
        };
    }

    internal CircuitState Circuit => _breaker.State;

    /// <summary>How long this node already knows <paramref name="client"/> to be locked out, or null; no Redis call.</summary>
    public TimeSpan? KnownLockout(string client) => _local.LockedOutFor(client);

    /// <summary>
    /// For a request with a valid key: how long <paramref name="client"/> is locked out by failures counted on any node,
    /// or null (also when neither Redis nor this node knows: fail open).
    /// </summary>
    public async ValueTask<TimeSpan?> LockedOutForAsync(string client, int limit, TimeSpan window)
    {
        if (_local.LockedOutFor(client) is { } known)
        {
            return known;
        }

        if (!_breaker.TryEnter())
        {
            return null;
        }

        try
        {
            var lockedFor = await BoundedAsync(_store.LockedOutForAsync(client, limit, window));
            _breaker.RecordSuccess();
            if (lockedFor is { } duration)
            {
                _local.RememberLockout(client, duration);
            }

            return lockedFor;
        }
        catch (Exception ex) when (AdminErrorMiddleware.IsStoreFailure(ex))
        {
            _breaker.RecordFailure();
            Log.StoreFailed(_logger, ex.GetType().Name, ex.Message);
            return null;
        }
    }

    /// <summary>Counts one failed authentication of <paramref name="client"/>, in Redis or, while it is away, on this node.</summary>
    public async ValueTask<FailureVerdict> RecordFailureAsync(string client, int limit, TimeSpan window)
    {
        if (_breaker.TryEnter())
        {
            try
            {
                var verdict = await BoundedAsync(_store.RecordFailureAsync(client, limit, window));
                _breaker.RecordSuccess();
                if (verdict.LockedFor is { } duration)
                {
                    _local.RememberLockout(client, duration);
                }

                return verdict;
            }
            catch (Exception ex) when (AdminErrorMiddleware.IsStoreFailure(ex))
            {
                _breaker.RecordFailure();
                Log.StoreFailed(_logger, ex.GetType().Name, ex.Message);
            }
        }

        return new FailureVerdict(Counted: true, _local.RecordFailure(client, limit, window));
    }

    /// <summary>
    /// The background connection allows whole seconds per command (ban list loads); a login waits no longer than the
    /// request path would.
    /// </summary>
    private async Task<T> BoundedAsync<T>(Task<T> call)
    {
        try
        {
            return await call.WaitAsync(TimeSpan.FromMilliseconds(_settings.Current.Redis.TimeoutMs), _time);
        }
        catch (TimeoutException)
        {
            // The abandoned call still ends (the client times it out); its failure is nobody's to report.
            _ = call.ContinueWith(static c => _ = c.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5013, Level = LogLevel.Warning, Message = "Admin failed-authentication count: Redis call failed ({ErrorType}: {Error}); this node counts on its own meanwhile")]
        public static partial void StoreFailed(ILogger logger, string errorType, string error);

        [LoggerMessage(EventId = 5014, Level = LogLevel.Warning, Message = "Admin failed-authentication count: Redis circuit opened; failures are counted per node until Redis answers")]
        public static partial void CircuitOpened(ILogger logger);

        [LoggerMessage(EventId = 5015, Level = LogLevel.Information, Message = "Admin failed-authentication count: Redis circuit closed; failures are shared across nodes again")]
        public static partial void CircuitClosed(ILogger logger);
    }
}
