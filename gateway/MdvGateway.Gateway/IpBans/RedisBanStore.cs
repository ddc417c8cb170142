using System.Text.Json;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// Bans in Redis: a hash of ban JSON and a sorted set of expiries (both under one hash tag, so each change is one
/// atomic script even on Redis Cluster), strikes per client under the client's own hash tag, and a pub/sub channel
/// that tells every node about each change. Every timestamp comes from Redis's <c>TIME</c>.
/// </summary>
internal sealed class RedisBanStore : IBanStore
{
    // Redis's own clock in Unix milliseconds, for the scripts below that need "now" (one clock for every node).
    private const string ServerClock = """
        local function now_ms()
          local t = redis.call('TIME')
          return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        end

        """;

    // KEYS: strikes, offense. ARGV: window ms, threshold, unique member, forget-offenses ms, ladder ms...
    // The ladder lives here and only here: the n-th ban takes the n-th rung, the last rung repeats, and the offense
    // level is remembered for the ban plus ForgetOffensesAfter, so it resets only after that long without a ban.
    private const string StrikeScript = ServerClock + """
        local now = now_ms()
        local window = tonumber(ARGV[1])
        redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - window)
        redis.call('ZADD', KEYS[1], now, ARGV[3])
        local strikes = redis.call('ZCARD', KEYS[1])
        if strikes < tonumber(ARGV[2]) then
          redis.call('PEXPIRE', KEYS[1], window)
          return {0, strikes, 0, 0, now}
        end
        redis.call('DEL', KEYS[1])
        local level = redis.call('INCR', KEYS[2])
        local rung = math.min(level, #ARGV - 4)
        local duration = tonumber(ARGV[4 + rung])
        redis.call('PEXPIRE', KEYS[2], duration + tonumber(ARGV[4]))
        return {1, strikes, level, duration, now}
        """;

    // KEYS: data, expiry. ARGV: target, ban json, expiry score, channel, message, mode.
    // Mode 0 writes; 1 keeps a longer ban that already stands (returns 0); 2 replaces only a ban that still stands
    // (returns 0 when it was lifted or has expired, so a change racing a lift never brings the ban back).
    private const string UpsertScript = ServerClock + """
        if ARGV[6] == '1' then
          local current = redis.call('ZSCORE', KEYS[2], ARGV[1])
          if current then
            if current == 'inf' then return 0 end
            if ARGV[3] ~= '+inf' and tonumber(current) >= tonumber(ARGV[3]) then return 0 end
          end
        elseif ARGV[6] == '2' then
          local current = redis.call('ZSCORE', KEYS[2], ARGV[1])
          if not current or redis.call('HEXISTS', KEYS[1], ARGV[1]) == 0 then return 0 end
          if current ~= 'inf' and tonumber(current) <= now_ms() then return 0 end
        end
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
        redis.call('ZADD', KEYS[2], ARGV[3], ARGV[1])
        redis.call('PUBLISH', ARGV[4], ARGV[5])
        return 1
        """;

    // KEYS: offense. ARGV: end of the client's ban (Unix ms, '+inf' while permanent, '0' when it has just ended),
    // ForgetOffensesAfter in ms. The level is forgotten ForgetOffensesAfter after the ban ends, so when the end moves
    // (a change, a lift) its expiry moves with it; a client with no level has nothing to keep.
    private const string RescheduleOffensesScript = ServerClock + """
        if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
        if ARGV[1] == '+inf' then
          redis.call('PERSIST', KEYS[1])
          return 1
        end
        local now = now_ms()
        redis.call('PEXPIRE', KEYS[1], math.max(tonumber(ARGV[1]) - now, 0) + tonumber(ARGV[2]))
        return 1
        """;

    // KEYS: data, expiry. ARGV: target, channel, message.
    private const string RemoveScript = """
        local removed = redis.call('HDEL', KEYS[1], ARGV[1])
        redis.call('ZREM', KEYS[2], ARGV[1])
        if removed == 1 then redis.call('PUBLISH', ARGV[2], ARGV[3]) end
        return removed
        """;

    // KEYS: data, expiry. Drops expired bans; returns the live ones.
    private const string ActiveScript = ServerClock + """
        local now = now_ms()
        local expired = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
        for _, target in ipairs(expired) do redis.call('HDEL', KEYS[1], target) end
        redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now)
        return redis.call('HVALS', KEYS[1])
        """;

    /// <summary>The most clients the offenders index keeps (the most recent ones).</summary>
    internal const int MaxOffenders = 100_000;

    private readonly RedisConnection _connection;
    private readonly GatewaySettingsMonitor _settings;

    public RedisBanStore(RedisConnection connection, GatewaySettingsMonitor settings)
    {
        _connection = connection;
        _settings = settings;
    }

    private string Prefix => _settings.Current.Redis.KeyPrefix;

    public async Task<StrikeResult> RecordStrikeAsync(string clientKey, StrikePolicy policy)
    {
        var db = RequestPathDatabase();
        var args = new RedisValue[4 + policy.BanDurations.Count];
        args[0] = (long)policy.StrikeWindow.TotalMilliseconds;
        args[1] = policy.StrikesBeforeBan;
        args[2] = Guid.NewGuid().ToString("N");
        args[3] = (long)policy.ForgetOffensesAfter.TotalMilliseconds;
        for (var i = 0; i < policy.BanDurations.Count; i++)
        {
            args[4 + i] = (long)policy.BanDurations[i].TotalMilliseconds;
        }

        var result = (RedisValue[])(await db.ScriptEvaluateAsync(
            StrikeScript,
            [RedisKeys.Strikes(Prefix, clientKey), RedisKeys.OffenseLevel(Prefix, clientKey)],
            args))!;
        var now = DateTimeOffset.FromUnixTimeMilliseconds((long)result[4]);
        // The offenders index is bounded: entries older than anything they could still stand for (strikes in the
        // window, an offense level remembered after the longest ban) go, and it never holds more than MaxOffenders.
        var offenders = RedisKeys.Offenders(Prefix);
        var horizon = policy.StrikeWindow + policy.ForgetOffensesAfter + policy.BanDurations.Max();
        db.SortedSetAdd(offenders, clientKey, (long)result[4], CommandFlags.FireAndForget);
        db.SortedSetRemoveRangeByScore(offenders, double.NegativeInfinity, (long)result[4] - horizon.TotalMilliseconds, flags: CommandFlags.FireAndForget);
        db.SortedSetRemoveRangeByRank(offenders, 0, -(MaxOffenders + 1), CommandFlags.FireAndForget);
        return new StrikeResult((long)result[0] == 1, (int)result[1], (int)result[2], TimeSpan.FromMilliseconds((long)result[3]), now);
    }

    public Task<bool> UpsertAsync(Ban ban, bool keepLonger) => WriteAsync(ban, keepLonger ? "1" : "0");

    public Task<bool> ReplaceAsync(Ban ban) => WriteAsync(ban, "2");

    public async Task RescheduleOffensesAsync(string clientKey, DateTimeOffset? banEnd)
    {
        var db = Database();
        RedisValue end = banEnd is { } at ? at.ToUnixTimeMilliseconds() : "+inf";
        await db.ScriptEvaluateAsync(
            RescheduleOffensesScript,
            [RedisKeys.OffenseLevel(Prefix, clientKey)],
            [end, (long)_settings.Current.Strikes.ForgetOffensesAfter.TotalMilliseconds]);
    }

    private async Task<bool> WriteAsync(Ban ban, string mode)
    {
        var db = Database();
        var json = JsonSerializer.Serialize(ban, BanJson.Default.Ban);
        var message = JsonSerializer.Serialize(new BanEvent(BanEvent.Upsert, ban.Target, ban), BanJson.Default.BanEvent);
        var written = await db.ScriptEvaluateAsync(
            UpsertScript,
            [RedisKeys.BanData(Prefix), RedisKeys.BanExpiry(Prefix)],
            [ban.Target, json, ExpiryScore(ban), RedisKeys.BanChannel(Prefix), message, mode]);
        return (long)written == 1;
    }

    public async Task<bool> RemoveAsync(string target)
    {
        var db = Database();
        var message = JsonSerializer.Serialize(new BanEvent(BanEvent.Delete, target, null), BanJson.Default.BanEvent);
        var removed = await db.ScriptEvaluateAsync(
            RemoveScript,
            [RedisKeys.BanData(Prefix), RedisKeys.BanExpiry(Prefix)],
            [target, RedisKeys.BanChannel(Prefix), message]);
        return (long)removed == 1;
    }

    public async Task ClearOffensesAsync(string clientKey, bool resetLevel)
    {
        var db = Database();
        await db.KeyDeleteAsync(RedisKeys.Strikes(Prefix, clientKey));
        if (resetLevel)
        {
            await db.KeyDeleteAsync(RedisKeys.OffenseLevel(Prefix, clientKey));
            await db.SortedSetRemoveAsync(RedisKeys.Offenders(Prefix), clientKey);
        }
        else
        {
            // The ban ended now, whatever end it had: the level lasts ForgetOffensesAfter from here.
            await RescheduleOffensesAsync(clientKey, DateTimeOffset.UnixEpoch);
        }
    }

    public async Task<IReadOnlyList<Ban>> GetActiveAsync()
    {
        var db = Database();
        var values = (RedisValue[])(await db.ScriptEvaluateAsync(ActiveScript, [RedisKeys.BanData(Prefix), RedisKeys.BanExpiry(Prefix)]))!;
        var bans = new List<Ban>(values.Length);
        foreach (var value in values)
        {
            if (JsonSerializer.Deserialize((string)value!, BanJson.Default.Ban) is { } ban)
            {
                bans.Add(ban);
            }
        }

        return bans;
    }

    public async Task<Ban?> GetAsync(string target)
    {
        var db = Database();
        var value = await db.HashGetAsync(RedisKeys.BanData(Prefix), target);
        if (value.IsNull || JsonSerializer.Deserialize((string)value!, BanJson.Default.Ban) is not { } ban)
        {
            return null;
        }

        return ban.IsActiveAt(await GetTimeAsync()) ? ban : null;
    }

    public async Task<IReadOnlyList<Offender>> GetOffendersAsync(int top)
    {
        var db = Database();
        var now = await GetTimeAsync();
        var window = _settings.Current.IpBans.StrikeWindow;
        var candidates = await db.SortedSetRangeByRankWithScoresAsync(RedisKeys.Offenders(Prefix), 0, Math.Max(0, (top * 4) - 1), Order.Descending);
        var offenders = new List<Offender>();
        foreach (var candidate in candidates)
        {
            var client = (string)candidate.Element!;
            var strikesKey = RedisKeys.Strikes(Prefix, client);
            var strikes = await db.SortedSetLengthAsync(strikesKey, (now - window).ToUnixTimeMilliseconds(), double.PositiveInfinity);
            var level = (int?)(long?)await db.StringGetAsync(RedisKeys.OffenseLevel(Prefix, client)) ?? 0;
            if (strikes == 0 && level == 0)
            {
                // Strikes aged out and no offense remembered: no longer an offender.
                await db.SortedSetRemoveAsync(RedisKeys.Offenders(Prefix), client, CommandFlags.FireAndForget);
                continue;
            }

            offenders.Add(new Offender(client, (int)strikes, level, DateTimeOffset.FromUnixTimeMilliseconds((long)candidate.Score)));
            if (offenders.Count == top)
            {
                break;
            }
        }

        return offenders;
    }

    public async Task<DateTimeOffset> GetTimeAsync()
    {
        var multiplexer = _connection.GetBackgroundConnected();
        var server = multiplexer.GetServers().FirstOrDefault(s => s.IsConnected && !s.IsReplica)
                     ?? throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "No connected Redis primary", null, CommandStatus.Unknown);
        return new DateTimeOffset(await server.TimeAsync(), TimeSpan.Zero);
    }

    private static RedisValue ExpiryScore(Ban ban)
        => ban.ExpiresAt is { } end ? end.ToUnixTimeMilliseconds() : "+inf";

    /// <summary>
    /// The background connection (seconds of timeout: ban lists can be long); fails at once while Redis is away.
    /// Strikes, the one call on the request path, use <see cref="RequestPathDatabase"/>.
    /// </summary>
    private IDatabase Database() => _connection.GetBackgroundConnected().GetDatabase();

    private IDatabase RequestPathDatabase() => _connection.GetConnected().GetDatabase();
}
