using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// Turns rate-limit rejections into strikes and, at the threshold, into a ban that this node enforces at once and
/// every other node within a pub/sub hop.
/// </summary>
internal sealed partial class StrikeRecorder
{
    private readonly IBanStore _store;
    private readonly BanCache _cache;
    private readonly GatewaySettingsMonitor _settings;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<StrikeRecorder> _logger;
    private readonly IAuditSink _audit;

    public StrikeRecorder(IBanStore store, BanCache cache, GatewaySettingsMonitor settings, GatewayMetrics metrics, ILogger<StrikeRecorder> logger, IAuditSink audit)
    {
        _audit = audit;
        _store = store;
        _cache = cache;
        _settings = settings;
        _metrics = metrics;
        _logger = logger;
    }

    /// <summary>The name this node signs automatic bans with.</summary>
    public static string NodeId { get; } = $"gateway:{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>Records one rejection of <paramref name="client"/> by <paramref name="policy"/>; never throws.</summary>
    public async Task RecordAsync(ClientIdentity.ClientIdentity client, RateLimitPolicy policy)
    {
        var settings = _settings.Current;
        if (!settings.IpBans.Enabled || ReferenceEquals(client, ClientIdentity.ClientIdentity.Unknown) || settings.BanAllowlist.Contains(client.Address))
        {
            return;
        }

        var timeout = TimeSpan.FromMilliseconds(settings.Redis.TimeoutMs);
        try
        {
            _metrics.Strike();
            var strike = await _store.RecordStrikeAsync(client.Key, settings.Strikes).WaitAsync(timeout);
            if (!strike.Banned)
            {
                return;
            }

            var ban = new Ban
            {
                Target = client.Key,
                Origin = BanOrigins.Auto,
                Reason = $"{strike.Strikes} rate-limit rejections within {settings.IpBans.StrikeWindow} (policy {policy.Name})",
                Level = strike.Level,
                CreatedAt = strike.Now,
                ExpiresAt = strike.Now + strike.Duration,
                CreatedBy = NodeId,
                Policy = policy.Name,
                Strikes = strike.Strikes,
            };

            bool written;
            try
            {
                written = await _store.UpsertAsync(ban, keepLonger: true).WaitAsync(timeout);
            }
            catch
            {
                // Redis took the strike but not the ban: enforce it on this node at least.
                _cache.Upsert(ban, settings.ClientIp.IPv6PrefixLength);
                throw;
            }

            if (!written)
            {
                // A longer ban already stands (written by another node a moment ago): nothing new was issued, and this
                // node's cache must not replace that ban with the shorter one. The longer one reaches it on the channel.
                Log.LongerBanKept(_logger, client.Key, strike.Level);
                return;
            }

            // Enforce here at once; the other nodes hear it on the channel.
            _cache.Upsert(ban, settings.ClientIp.IPv6PrefixLength);
            _metrics.BanIssued(BanOrigins.Auto, strike.Level);
            _audit.Record(AuditEvents.BanIssued(ban));
            Log.BanIssued(_logger, client.Key, strike.Level, strike.Duration, policy.Name, strike.Strikes);
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

        [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "{Client} earned a level {Level} ban, but a longer ban already stands; kept the longer one")]
        public static partial void LongerBanKept(ILogger logger, string client, int level);

        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "Could not record a strike ({ErrorType}: {Error})")]
        public static partial void StrikeFailed(ILogger logger, string errorType, string error);
    }
}
