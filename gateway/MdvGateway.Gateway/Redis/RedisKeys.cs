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
}
