using System.Buffers;
using System.IO.Hashing;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;

namespace MdvGateway.Gateway.Redis;

/// <summary>
/// Every Redis key and rate-limit partition name the gateway uses is built here, so the layout can be read
/// (and changed) in one place.
/// </summary>
/// <remarks>
/// <para>
/// Every key starts with the configured prefix and carries a Redis Cluster hash tag. A client's keys (its windows under
/// every policy, its strikes, its offense level) share the tag of its <em>bucket</em>, one of <see cref="SlotBuckets"/>
/// (a stable hash of the client's key), so the one script that decides a batch of requests touches one slot as long as
/// the batch's clients share a bucket: on Redis Cluster the engine batches per bucket, on a single Redis it batches
/// everything. The offenders index is one sorted set per bucket, so no request writes to a single hot key.
/// </para>
/// <para>
/// <see cref="SlotBuckets"/> is part of the layout: changing it moves every client to another key, which starts its
/// windows and strikes afresh.
/// </para>
/// </remarks>
internal static class RedisKeys
{
    /// <summary>How many hash tags clients are spread over (see the remarks).</summary>
    public const int SlotBuckets = 16;

    /// <summary>The bucket of a client key or partition value: a stable hash, the same on every node and every run.</summary>
    public static int Bucket(ReadOnlySpan<char> value)
        => (int)(XxHash32.HashToUInt32(MemoryMarshal.AsBytes(value)) % SlotBuckets);

    /// <summary>The hash tag of a bucket, braces included.</summary>
    public static string BucketTag(int bucket) => BucketTags[bucket];

    /// <summary>
    /// The sub-window counters of one limit of one policy for one partition (a hash, see <c>decide.lua</c>), in the
    /// partition's bucket.
    /// </summary>
    public static string RateLimitWindow(string prefix, int bucket, string policy, string limitName, string partition)
        => string.Concat([prefix, ":", BucketTags[bucket], ":w:", policy, ":", limitName, ":", partition]);

    /// <summary>
    /// The per-node name of one limit of one policy for one client, for what is kept in memory only (the local
    /// fallback limiter).
    /// </summary>
    public static string RateLimitPartition(string prefix, string policy, string limitName, string clientKey)
        => string.Concat(prefix, ":", policy, ":", limitName, ":", clientKey);

    /// <summary>Field per ban target → the ban as JSON. All ban keys share the <c>{bans}</c> hash tag (one slot).</summary>
    public static string BanData(string prefix) => prefix + ":{bans}:data";

    /// <summary>Sorted set of ban targets scored by expiry (Unix ms, +inf when permanent): lists bans without SCAN.</summary>
    public static string BanExpiry(string prefix) => prefix + ":{bans}:expiry";

    /// <summary>Pub/sub channel on which every ban change is announced to every node.</summary>
    public static string BanChannel(string prefix) => prefix + ":bans:events";

    /// <summary>A client's strikes in the strike window (sorted set scored by Redis time), in the client's bucket.</summary>
    public static string Strikes(string prefix, string clientKey) => ClientKey(prefix, clientKey, ":strikes:");

    /// <summary>A client's offense level (counter that expires <c>ForgetOffensesAfter</c> after its last ban).</summary>
    public static string OffenseLevel(string prefix, string clientKey) => ClientKey(prefix, clientKey, ":offense:");

    /// <summary>
    /// Set (with the ban's duration as its expiry) when strikes earn a client a ban, so that strikes counted while that
    /// ban stands never issue a second one; a lift deletes it.
    /// </summary>
    public static string AutoBanned(string prefix, string clientKey) => ClientKey(prefix, clientKey, ":banned:");

    /// <summary>
    /// Clients of one bucket that earned strikes, scored by the time of their last one (Redis time), for the offenders
    /// list; bounded per bucket by the engine.
    /// </summary>
    public static string Offenders(string prefix, int bucket) => string.Concat(prefix, ":", BucketTags[bucket], ":offenders");

    private static string ClientKey(string prefix, string clientKey, string kind)
        => string.Concat(prefix, ":", BucketTags[Bucket(clientKey)], kind, clientKey);

    private static readonly string[] BucketTags = [.. Enumerable.Range(0, SlotBuckets).Select(b => "{b" + b.ToString("d2", System.Globalization.CultureInfo.InvariantCulture) + "}")];

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
