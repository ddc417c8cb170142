using StackExchange.Redis;

namespace MdvGateway.Gateway.Redis;

/// <summary>
/// The gateway's Redis connections. Neither queues commands while disconnected: a request must learn at once that
/// Redis is away so that <c>WhenStoreUnavailable</c> can apply. The request path's connection times commands out
/// after <c>Redis:TimeoutMs</c>; a second connection, for work nobody waits on with a stopwatch (ban list loads,
/// pub/sub, the admin API), allows whole seconds, so a long ban list never fails to load.
/// </summary>
internal sealed partial class RedisConnection : IAsyncDisposable
{
    /// <summary>The command timeout of the background connection.</summary>
    internal const int BackgroundTimeoutMs = 10_000;

    private readonly Lazy<Task<IConnectionMultiplexer>> _connect;
    private readonly Lazy<Task<IConnectionMultiplexer>> _connectBackground;
    private readonly ILogger<RedisConnection> _logger;

    public RedisConnection(GatewayRedisConfiguration configuration, ILogger<RedisConnection> logger)
    {
        _logger = logger;
        _connect = new Lazy<Task<IConnectionMultiplexer>>(() => ConnectAsync(configuration.ConfigurationString, configuration.TimeoutMs, nameSuffix: string.Empty));
        _connectBackground = new Lazy<Task<IConnectionMultiplexer>>(() => ConnectAsync(configuration.ConfigurationString, Math.Max(configuration.TimeoutMs, BackgroundTimeoutMs), nameSuffix: "-bg"));
    }

    /// <summary>The request path's multiplexer; connecting in the background if Redis is not there yet.</summary>
    public Task<IConnectionMultiplexer> GetAsync() => _connect.Value;

    /// <summary>The background multiplexer (ban loads, pub/sub, admin API).</summary>
    public Task<IConnectionMultiplexer> GetBackgroundAsync() => _connectBackground.Value;

    /// <summary>The background multiplexer, connected; throws at once otherwise.</summary>
    public IConnectionMultiplexer GetBackgroundConnected()
        => _connectBackground.IsValueCreated && _connectBackground.Value.IsCompletedSuccessfully && _connectBackground.Value.Result is { IsConnected: true } multiplexer
            ? multiplexer
            : throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "Redis is not connected", null, CommandStatus.Unknown);

    /// <summary>
    /// The multiplexer, connected, for the request path: throws at once (never waits for a connection attempt) when
    /// Redis is not there, so the caller can apply its fallback.
    /// </summary>
    public IConnectionMultiplexer GetConnected()
        => TryGet() is { IsConnected: true } multiplexer
            ? multiplexer
            : throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "Redis is not connected", null, CommandStatus.Unknown);

    /// <summary>The multiplexer if the first connection attempt has finished, else null.</summary>
    public IConnectionMultiplexer? TryGet()
        => _connect.IsValueCreated && _connect.Value.IsCompletedSuccessfully ? _connect.Value.Result : null;

    private async Task<IConnectionMultiplexer> ConnectAsync(string configurationString, int timeoutMs, string nameSuffix)
    {
        var options = ConfigurationOptions.Parse(configurationString);
        options.AbortOnConnectFail = false;
        options.BacklogPolicy = BacklogPolicy.FailFast;
        options.ConnectTimeout = Math.Max(options.ConnectTimeout == 5000 ? 2000 : options.ConnectTimeout, timeoutMs);
        // The request path's bound on Redis is enforced by the client itself: async commands time out after
        // TimeoutMs, checked on a heartbeat frequent enough that none waits much longer. This costs nothing per
        // request, unlike a timer per call.
        options.AsyncTimeout = timeoutMs;
        options.SyncTimeout = Math.Max(timeoutMs, 1000);
        options.HeartbeatInterval = TimeSpan.FromMilliseconds(Math.Clamp(timeoutMs / 2, 50, 1000));
        options.ClientName = (string.IsNullOrEmpty(options.ClientName) ? "mdv-gateway" : options.ClientName) + nameSuffix;
        var multiplexer = await ConnectionMultiplexer.ConnectAsync(options);
        multiplexer.ConnectionFailed += (_, e) =>
        {
            if (_logger.IsEnabled(LogLevel.Warning))
            {
                var endpoint = e.EndPoint?.ToString() ?? "?";
                var failure = e.FailureType.ToString();
                Log.ConnectionFailed(_logger, endpoint, failure);
            }
        };
        multiplexer.ConnectionRestored += (_, e) =>
        {
            var endpoint = e.EndPoint?.ToString() ?? "?";
            Log.ConnectionRestored(_logger, endpoint);
        };
        if (!multiplexer.IsConnected)
        {
            Log.NotConnectedAtStart(_logger);
        }

        return multiplexer;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var connection in new[] { _connect, _connectBackground })
        {
            if (!connection.IsValueCreated)
            {
                continue;
            }

            try
            {
                var multiplexer = await connection.Value;
                await multiplexer.CloseAsync(allowCommandsToComplete: true);
                multiplexer.Dispose();
            }
            catch (RedisException)
            {
                // Shutting down: nothing useful to do about a connection that is already broken.
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Redis connection to {Endpoint} failed: {FailureType}")]
        public static partial void ConnectionFailed(ILogger logger, string endpoint, string failureType);

        [LoggerMessage(EventId = 2002, Level = LogLevel.Information, Message = "Redis connection to {Endpoint} restored")]
        public static partial void ConnectionRestored(ILogger logger, string endpoint);

        [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Redis is not reachable at start-up; limiting falls back to WhenStoreUnavailable until it is")]
        public static partial void NotConnectedAtStart(ILogger logger);
    }
}

/// <summary>The parts of <see cref="RedisOptions"/> fixed for the life of the process (a new server needs a restart).</summary>
internal sealed record GatewayRedisConfiguration(string ConfigurationString, int TimeoutMs);
