using System.Text.Json;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// Bans in Redis: a hash of ban JSON and a sorted set of expiries (both under one hash tag, so each change is one
/// atomic script even on Redis Cluster), strikes and offense levels per client under the client's bucket's hash tag
/// (counted by the rate-limit engine's <c>decide.lua</c>), and a pub/sub channel that tells every node about each
/// change. Every timestamp comes from Redis's <c>TIME</c>. The scripts are <c>Redis/Scripts/*.lua</c>.
/// </summary>
internal sealed class RedisBanStore : IBanStore
{
    /// <summary>The most clients the offenders index keeps over all its buckets (the most recent ones).</summary>
    internal const int MaxOffenders = RedisDecisionBatcher.MaxOffendersPerBucket * RedisKeys.SlotBuckets;

    private readonly RedisConnection _connection;
    private readonly GatewaySettingsMonitor _settings;

    public RedisBanStore(RedisConnection connection, GatewaySettingsMonitor settings)
    {
        _connection = connection;
        _settings = settings;
    }

    private string Prefix => _settings.Current.Redis.KeyPrefix;

    public Task<bool> UpsertAsync(Ban ban, bool keepLonger) => WriteAsync(ban, keepLonger ? "1" : "0");

    public Task<bool> ReplaceAsync(Ban ban) => WriteAsync(ban, "2");

    public async Task RescheduleOffensesAsync(string clientKey, DateTimeOffset? banEnd)
    {
        var db = Database();
        RedisValue end = banEnd is { } at ? at.ToUnixTimeMilliseconds() : "+inf";
        await db.ScriptEvaluateAsync(
            RedisScripts.OffenseReschedule,
            [RedisKeys.OffenseLevel(Prefix, clientKey)],
            [end, (long)_settings.Current.Strikes.ForgetOffensesAfter.TotalMilliseconds]);
    }

    private async Task<bool> WriteAsync(Ban ban, string mode)
    {
        var db = Database();
        var json = JsonSerializer.Serialize(ban, BanJson.Default.Ban);
        var message = JsonSerializer.Serialize(new BanEvent(BanEvent.Upsert, ban.Target, ban), BanJson.Default.BanEvent);
        var written = await db.ScriptEvaluateAsync(
            RedisScripts.BanUpsert,
            [RedisKeys.BanData(Prefix), RedisKeys.BanExpiry(Prefix)],
            [ban.Target, json, ExpiryScore(ban), RedisKeys.BanChannel(Prefix), message, mode]);
        return (long)written == 1;
    }

    public async Task<bool> RemoveAsync(string target)
    {
        var db = Database();
        var message = JsonSerializer.Serialize(new BanEvent(BanEvent.Delete, target, null), BanJson.Default.BanEvent);
        var removed = await db.ScriptEvaluateAsync(
            RedisScripts.BanRemove,
            [RedisKeys.BanData(Prefix), RedisKeys.BanExpiry(Prefix)],
            [target, RedisKeys.BanChannel(Prefix), message]);
        return (long)removed == 1;
    }

    public async Task ClearOffensesAsync(string clientKey, bool resetLevel)
    {
        var db = Database();
        // The strikes and the marker of the ban they earned: the client starts counting afresh.
        await db.KeyDeleteAsync([RedisKeys.Strikes(Prefix, clientKey), RedisKeys.AutoBanned(Prefix, clientKey)]);
        if (resetLevel)
        {
            await db.KeyDeleteAsync(RedisKeys.OffenseLevel(Prefix, clientKey));
            await db.SortedSetRemoveAsync(RedisKeys.Offenders(Prefix, RedisKeys.Bucket(clientKey)), clientKey);
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
        var values = (RedisValue[])(await db.ScriptEvaluateAsync(RedisScripts.BansActive, [RedisKeys.BanData(Prefix), RedisKeys.BanExpiry(Prefix)]))!;
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

        // The index is one sorted set per bucket: the most recent of each, merged, are the most recent of all.
        var reads = Enumerable.Range(0, RedisKeys.SlotBuckets)
            .Select(b => db.SortedSetRangeByRankWithScoresAsync(RedisKeys.Offenders(Prefix, b), 0, Math.Max(0, (top * 4) - 1), Order.Descending));
        var candidates = (await Task.WhenAll(reads)).SelectMany(c => c).OrderByDescending(c => c.Score).Take(top * 4);
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
                await db.SortedSetRemoveAsync(RedisKeys.Offenders(Prefix, RedisKeys.Bucket(client)), client, CommandFlags.FireAndForget);
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
    /// Strikes are counted by the rate-limit engine's own calls (<c>decide.lua</c>).
    /// </summary>
    private IDatabase Database() => _connection.GetBackgroundConnected().GetDatabase();
}
