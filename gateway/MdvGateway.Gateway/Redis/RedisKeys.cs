using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace MdvGateway.Gateway.Redis;

/// <summary>
/// Every Redis key and rate-limit partition name the gateway uses is built here, so the layout can be read
/// (and changed) in one place.
/// </summary>
/// <remarks>
/// RedisRateLimiting stores a sliding window under <c>rl:sw:{partition}</c>; the braces make the whole
/// partition name the Redis Cluster hash tag. Our partition names therefore never contain braces and always
/// start with the configured prefix and the policy name, so two policies or two environments never share a
/// counter.
/// </remarks>
internal static class RedisKeys
{
    /// <summary>The partition name of one limit of one policy for one client.</summary>
    public static string RateLimitPartition(string prefix, string policy, string limitName, string clientKey)
        => string.Concat(prefix, ":", policy, ":", limitName, ":", clientKey);

    /// <summary>The sorted set RedisRateLimiting keeps for a partition (its own naming, mirrored here).</summary>
    public static string SlidingWindowSet(string partition) => string.Concat("rl:sw:{", partition, "}");

    /// <summary>Field per ban target → the ban as JSON. All ban keys share the <c>{bans}</c> hash tag (one slot).</summary>
    public static string BanData(string prefix) => prefix + ":{bans}:data";

    /// <summary>Sorted set of ban targets scored by expiry (Unix ms, +inf when permanent): lists bans without SCAN.</summary>
    public static string BanExpiry(string prefix) => prefix + ":{bans}:expiry";

    /// <summary>Pub/sub channel on which every ban change is announced to every node.</summary>
    public static string BanChannel(string prefix) => prefix + ":bans:events";

    /// <summary>A client's strikes in the strike window (sorted set scored by Redis time).</summary>
    public static string Strikes(string prefix, string clientKey) => string.Concat(prefix, ":{c:", clientKey, "}:strikes");

    /// <summary>A client's offense level (counter that expires <c>ForgetOffensesAfter</c> after its last ban).</summary>
    public static string OffenseLevel(string prefix, string clientKey) => string.Concat(prefix, ":{c:", clientKey, "}:offense");

    /// <summary>Clients that earned strikes, scored by the time of their last one, for the offenders list.</summary>
    public static string Offenders(string prefix) => prefix + ":{offenders}";

    /// <summary>
    /// A compact, stable, irreversible digest for partition values that must not be stored verbatim (API keys in headers)
    /// or may contain characters that would break the hash tag.
    /// </summary>
    public static string Digest(ReadOnlySpan<char> value)
    {
        var maxBytes = Encoding.UTF8.GetMaxByteCount(value.Length);
        var rented = ArrayPool<byte>.Shared.Rent(maxBytes);
        try
        {
            var length = Encoding.UTF8.GetBytes(value, rented);
            // SHA-256 rather than a fast hash: header partitions are often credentials, and a digest that
            // cannot be reversed keeps them out of Redis, key dumps and logs.
            Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
            SHA256.HashData(rented.AsSpan(0, length), hash);
            return Convert.ToHexStringLower(hash[..16]);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>
    /// The RedisRateLimiting fixed-window partition that counts one client's failed admin authentications, shared by
    /// every node. The library stores it as <c>rl:fw:{partition}</c> and <c>rl:fw:{partition}:exp</c>: it adds the
    /// braces itself, so the partition carries none and is the hash tag of both keys.
    /// </summary>
    public static string AdminAuthFailures(string prefix, string clientKey) => string.Concat(prefix, ":admin-auth:", clientKey);
}
