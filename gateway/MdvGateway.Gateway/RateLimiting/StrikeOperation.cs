using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>Strikes a node counted on its own (refusals it answered from its over-limit cache), flushed in a batch.</summary>
internal sealed class StrikeOperation(string clientKey, int count, long enqueuedAt, Action<StrikeOperation, EarnedBan?, bool> done)
    : BatchOperation(RedisKeys.Bucket(clientKey), enqueuedAt)
{
    private EarnedBan? _ban;

    public string ClientKey { get; } = clientKey;

    public int Count { get; } = count;

    /// <summary>The policy of the latest of these refusals, named in the ban's reason.</summary>
    public string? Policy { get; init; }

    public override void Write(string prefix, List<RedisKey> keys, List<RedisValue> values)
    {
        values.Add("s");
        values.Add(Count);
        values.Add(ClientKey);
        StrikeKeys.Append(prefix, ClientKey, Bucket, keys);
    }

    public override void Read(RedisResult[] results, ref int position, DateTimeOffset now)
    {
        var strikes = (int)results[position];
        var level = (int)results[position + 1];
        var banMs = (long)results[position + 2];
        position += 3;
        _ban = level > 0 ? new EarnedBan(level, TimeSpan.FromMilliseconds(banMs), strikes, now) : null;
    }

    public override void Deliver() => done(this, _ban, true);

    public override void Fail(StoreStatus status) => done(this, null, false);
}

/// <summary>The four keys a strike touches, in the order <c>decide.lua</c> reads them.</summary>
internal static class StrikeKeys
{
    public static void Append(string prefix, string clientKey, int bucket, List<RedisKey> keys)
    {
        keys.Add(RedisKeys.Strikes(prefix, clientKey));
        keys.Add(RedisKeys.OffenseLevel(prefix, clientKey));
        keys.Add(RedisKeys.AutoBanned(prefix, clientKey));
        keys.Add(RedisKeys.Offenders(prefix, bucket));
    }
}
