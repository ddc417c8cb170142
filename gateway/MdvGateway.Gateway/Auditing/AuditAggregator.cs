using System.Collections.Concurrent;
using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// Counts rate-limit rejections, banned requests and other refusals per client (and route, policy and limit, or
/// reason) between two <see cref="Flush"/> calls, and turns each non-zero count into one event. Thread-safe and exact:
/// every increment is reported by exactly one flush, however the two race.
/// </summary>
/// <remarks>
/// A bucket is never swapped out from under a writer. Writers and the flush take the bucket's own lock: the flush reads
/// and resets the count, so an increment lands either before the reset (in this flush) or after it (in the next one).
/// A bucket found empty by a flush has been idle for a whole interval; the flush marks it dead and removes it, and a
/// writer that finds its bucket dead starts a new one. Nothing is ever added to a bucket after it was reported.
/// <para>
/// Bounded: an address rotation must not grow the table with the number of addresses. Past <see cref="MaxClientBuckets"/>
/// buckets, a client with no bucket yet is counted in its network's (IPv4 /24, IPv6 /48; details <c>aggregated:
/// "network"</c>), and past a further <see cref="MaxNetworkBuckets"/> in the bucket of its whole address family
/// (<c>0.0.0.0/0</c> or <c>::/0</c>, <c>aggregated: "all"</c>). Counts stay exact; no event ever loses its address.
/// </para>
/// </remarks>
internal sealed class AuditAggregator(int maxClientBuckets = AuditAggregator.DefaultMaxClientBuckets)
{
    /// <summary>Buckets of single clients kept per interval before new clients are counted by network.</summary>
    internal const int DefaultMaxClientBuckets = 50_000;

    /// <summary>The IPv4 prefix an overflowing client is counted under.</summary>
    internal const int IPv4NetworkPrefix = 24;

    /// <summary>The IPv6 prefix an overflowing client is counted under.</summary>
    internal const int IPv6NetworkPrefix = 48;

    private readonly ConcurrentDictionary<AggregateKey, Bucket> _buckets = new();

    internal int MaxClientBuckets { get; } = maxClientBuckets;

    /// <summary>Network buckets kept beyond <see cref="MaxClientBuckets"/> before clients are counted per address family.</summary>
    internal int MaxNetworkBuckets => Math.Max(16, MaxClientBuckets / 10);

    /// <summary>Buckets currently held (clients seen in this interval or the previous one).</summary>
    public int BucketCount => _buckets.Count;

    public void AddRejection(string? client, string routeId, string policy, RateLimit limit, DateTimeOffset at)
        => Add(new AggregateKey(AuditEventTypes.RateLimitExceeded, client, routeId, policy, limit.Name, null), at, limit.PermitLimit, limit.Window);

    public void AddBanBlocked(string? client, DateTimeOffset at)
        => Add(new AggregateKey(AuditEventTypes.BanBlocked, client, null, null, null, null), at, 0, TimeSpan.Zero);

    public void AddAbuseRefused(string? client, string reason, DateTimeOffset at)
        => Add(new AggregateKey(AuditEventTypes.AbuseRefused, client, null, null, null, reason), at, 0, TimeSpan.Zero);

    /// <summary>Reports every count since the previous flush as one event each, and starts counting afresh.</summary>
    /// <param name="now">The end of the interval: each event's <c>OccurredAt</c>.</param>
    /// <param name="actor">The gateway node the events are signed with.</param>
    public List<AuditEventRecorded> Flush(DateTimeOffset now, string actor)
    {
        var events = new List<AuditEventRecorded>();
        foreach (var (key, bucket) in _buckets)
        {
            long count;
            DateTimeOffset firstAt, lastAt;
            int limit;
            TimeSpan window;
            lock (bucket.Sync)
            {
                if (bucket.Count == 0)
                {
                    bucket.Dead = true;
                    _buckets.TryRemove(new KeyValuePair<AggregateKey, Bucket>(key, bucket));
                    continue;
                }

                (count, firstAt, lastAt, limit, window) = (bucket.Count, bucket.FirstAt, bucket.LastAt, bucket.Limit, bucket.Window);
                bucket.Count = 0;
            }

            events.Add(ToEvent(key, count, firstAt, lastAt, limit, window, now, actor));
        }

        return events;
    }

    private void Add(AggregateKey key, DateTimeOffset at, int limit, TimeSpan window)
    {
        key = Bounded(key);
        while (true)
        {
            var bucket = _buckets.GetOrAdd(key, static _ => new Bucket());
            lock (bucket.Sync)
            {
                if (bucket.Dead)
                {
                    // Removed by a flush between our lookup and our lock: count in its successor.
                    continue;
                }

                if (bucket.Count == 0)
                {
                    bucket.FirstAt = at;
                    bucket.LastAt = at;
                }
                else
                {
                    // Threads do not call in timestamp order; keep the true extremes.
                    if (at < bucket.FirstAt)
                    {
                        bucket.FirstAt = at;
                    }

                    if (at > bucket.LastAt)
                    {
                        bucket.LastAt = at;
                    }
                }

                bucket.Count++;
                bucket.Limit = limit;
                bucket.Window = window;
                return;
            }
        }
    }

    /// <summary>The key itself while the table has room; otherwise the same key for the client's network or family.</summary>
    private AggregateKey Bounded(AggregateKey key)
    {
        if (key.Client is null || _buckets.Count < MaxClientBuckets || _buckets.ContainsKey(key))
        {
            return key;
        }

        if (!TryParseClient(key.Client, out var address))
        {
            return key;
        }

        var network = key with { Client = Network(address, address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? IPv4NetworkPrefix : IPv6NetworkPrefix), Scope = "network" };
        if (_buckets.Count < MaxClientBuckets + MaxNetworkBuckets || _buckets.ContainsKey(network))
        {
            return network;
        }

        return key with { Client = Network(address, 0), Scope = "all" };
    }

    /// <summary>A client key: an address, or an IPv6 prefix such as <c>2001:db8::/64</c>.</summary>
    private static bool TryParseClient(string client, out IPAddress address)
    {
        var slash = client.IndexOf('/', StringComparison.Ordinal);
        return IPAddress.TryParse(slash < 0 ? client : client.AsSpan(0, slash), out address!);
    }

    private static string Network(IPAddress address, int prefix)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
            prefix = Math.Min(prefix, IPv4NetworkPrefix);
        }

        return new IPNetwork(ClientIdentity.NetworkList.Mask(address, prefix), prefix).ToString();
    }

    private static AuditEventRecorded ToEvent(AggregateKey key, long count, DateTimeOffset firstAt, DateTimeOffset lastAt, int limit, TimeSpan window, DateTimeOffset now, string actor)
    {
        var details = AuditDetails.Build(writer =>
        {
            writer.WriteNumber("count", count);
            writer.WriteTimestamp("firstAt", firstAt);
            writer.WriteTimestamp("lastAt", lastAt);
            if (key.EventType == AuditEventTypes.RateLimitExceeded)
            {
                writer.WriteNumber("limit", limit);
                writer.WriteSeconds("window", window);
                writer.WriteString("limitName", key.LimitName);
            }
            else if (key.EventType == AuditEventTypes.AbuseRefused)
            {
                writer.WriteString("reason", key.Reason);
            }

            if (key.Scope is not null)
            {
                writer.WriteString("aggregated", key.Scope);
            }
        });
        return new AuditEventRecorded(Guid.CreateVersion7(now), now, key.EventType, key.Client, key.RouteId, key.Policy, actor, details);
    }

    // Scope: null for one client; "network" or "all" for the overflow buckets.
    private readonly record struct AggregateKey(string EventType, string? Client, string? RouteId, string? Policy, string? LimitName, string? Reason, string? Scope = null);

    private sealed class Bucket
    {
        public readonly Lock Sync = new();
        public long Count;
        public DateTimeOffset FirstAt;
        public DateTimeOffset LastAt;
        public int Limit;
        public TimeSpan Window;
        public bool Dead;
    }
}
