using System.Text.Json;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// Keeps <see cref="BanCache"/> equal to Redis: a full load at start, every change as it is published, and a full
/// reload after any reconnection (messages published while disconnected are lost) and every
/// <see cref="ResyncInterval"/> as a safety net.
/// </summary>
internal sealed partial class BanSynchronizer : BackgroundService
{
    internal static readonly TimeSpan ResyncInterval = TimeSpan.FromSeconds(10);

    private readonly RedisConnection _connection;
    private readonly IBanStore _store;
    private readonly BanCache _cache;
    private readonly GatewaySettingsMonitor _settings;
    private readonly ILogger<BanSynchronizer> _logger;
    private readonly GatewayMetrics _metrics;
    private readonly SemaphoreSlim _resyncNow = new(0);

    public BanSynchronizer(RedisConnection connection, IBanStore store, BanCache cache, GatewaySettingsMonitor settings, ILogger<BanSynchronizer> logger, GatewayMetrics metrics)
    {
        _metrics = metrics;
        _connection = connection;
        _store = store;
        _cache = cache;
        _settings = settings;
        _logger = logger;
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var multiplexer = await _connection.GetBackgroundAsync().WaitAsync(stoppingToken);
        multiplexer.ConnectionRestored += (_, _) => _resyncNow.Release();
        var subscribed = false;

        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (!subscribed)
                {
                    var queue = await multiplexer.GetSubscriber().SubscribeAsync(RedisChannel.Literal(RedisKeys.BanChannel(_settings.Current.Redis.KeyPrefix)));
                    queue.OnMessage(Apply);
                    subscribed = true;
                }

                var bans = await _store.GetActiveAsync();
                _cache.ReplaceAll(bans, _settings.Current.ClientIp.IPv6PrefixLength);
                _metrics.BanListLoaded();
                Log.Synchronized(_logger, bans.Count);
            }
            catch (Exception ex) when (ex is RedisException or TimeoutException or JsonException)
            {
                Log.SyncFailed(_logger, ex.GetType().Name, ex.Message);
            }

            try
            {
                // Retry sooner while the first load has not succeeded.
                await _resyncNow.WaitAsync(_cache.IsLoaded ? ResyncInterval : TimeSpan.FromSeconds(1), stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private void Apply(ChannelMessage message)
    {
        try
        {
            var change = JsonSerializer.Deserialize((string)message.Message!, BanJson.Default.BanEvent);
            switch (change)
            {
                case { Op: BanEvent.Upsert, Ban: { } ban }:
                    _cache.Upsert(ban, _settings.Current.ClientIp.IPv6PrefixLength);
                    break;
                case { Op: BanEvent.Delete }:
                    _cache.Remove(change.Target);
                    break;
            }
        }
        catch (JsonException ex)
        {
            Log.BadMessage(_logger, ex.Message);
        }
    }

    public override void Dispose()
    {
        _resyncNow.Dispose();
        base.Dispose();
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4101, Level = LogLevel.Debug, Message = "Ban cache synchronised: {BanCount} active bans")]
        public static partial void Synchronized(ILogger logger, int banCount);

        [LoggerMessage(EventId = 4102, Level = LogLevel.Warning, Message = "Ban cache synchronisation failed ({ErrorType}: {Error}); known bans stay enforced, retrying")]
        public static partial void SyncFailed(ILogger logger, string errorType, string error);

        [LoggerMessage(EventId = 4103, Level = LogLevel.Warning, Message = "Ignored an unreadable ban change message: {Error}")]
        public static partial void BadMessage(ILogger logger, string error);
    }
}
