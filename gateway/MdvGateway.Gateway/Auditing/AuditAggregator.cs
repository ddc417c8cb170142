using System.Collections.Concurrent;
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
/// </remarks>
internal sealed class AuditAggregator
{
    private readonly ConcurrentDictionary<AggregateKey, Bucket> _buckets = new();

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
        });
        return new AuditEventRecorded(Guid.CreateVersion7(now), now, key.EventType, key.Client, key.RouteId, key.Policy, actor, details);
    }

    private readonly record struct AggregateKey(string EventType, string? Client, string? RouteId, string? Policy, string? LimitName, string? Reason);

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
