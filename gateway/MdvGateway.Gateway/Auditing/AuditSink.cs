using MdvGateway.Contracts;
using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Auditing;

/// <summary>Aggregates rejections and refusals in memory and queues everything else; the publisher flushes the aggregates.</summary>
internal sealed class AuditSink : IAuditSink
{
    private readonly AuditAggregator _aggregator = new();
    private readonly AuditQueue _queue;
    private readonly TimeProvider _time;

    public AuditSink(AuditQueue queue, TimeProvider time)
    {
        _queue = queue;
        _time = time;
    }

    public void RateLimitRejected(string? client, string routeId, string policy, RateLimit limit, DateTimeOffset at)
        => _aggregator.AddRejection(client, routeId, policy, limit, at);

    public void BanBlocked(string? client, DateTimeOffset at)
        => _aggregator.AddBanBlocked(client, at);

    public void AbuseRefused(string? client, string reason, DateTimeOffset at)
        => _aggregator.AddAbuseRefused(client, reason, at);

    /// <summary>Aggregate buckets held now (bounded, see <see cref="AuditAggregator"/>).</summary>
    public int AggregateBuckets => _aggregator.BucketCount;

    public void Record(AuditEventRecorded auditEvent) => _queue.Enqueue(auditEvent);

    /// <summary>Turns the counts since the last flush into events and queues them.</summary>
    /// <returns>How many events were produced.</returns>
    public int FlushAggregates()
    {
        var events = _aggregator.Flush(_time.GetUtcNow(), AuditEvents.NodeId);
        _queue.EnqueueRange(events);
        return events.Count;
    }
}
