using System.Diagnostics.Metrics;
using MdvGateway.Contracts;

namespace MdvGateway.AuditConsumer.Diagnostics;

/// <summary>
/// Every instrument the consumer publishes, on the meter <c>MdvGateway.AuditConsumer</c> (exported on <c>/metrics</c>).
/// Tags never carry an address or an event id: cardinality stays fixed whatever the traffic.
/// </summary>
internal sealed class AuditMetrics
{
    public const string MeterName = "MdvGateway.AuditConsumer";

    private static readonly string[] KnownTypes =
    [
        AuditEventTypes.RateLimitExceeded, AuditEventTypes.BanIssued, AuditEventTypes.BanLifted, AuditEventTypes.BanBlocked,
        AuditEventTypes.ConfigReloaded, AuditEventTypes.ConfigRejected, AuditEventTypes.AbuseRefused,
    ];

    private readonly Counter<long> _received;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _duplicates;
    private readonly Counter<long> _rejected;
    private readonly Counter<long> _unreadable;
    private readonly Histogram<int> _batchSize;
    private readonly Histogram<double> _batchDuration;
    private readonly Counter<long> _batchFailures;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _partitionsCreated;
    private readonly Counter<long> _partitionsDropped;
    private readonly Counter<long> _rowsMoved;
    private readonly Counter<long> _maintenanceFailures;
    private IReadOnlyList<AuditQueueDepth> _queues = [];

    public AuditMetrics(IMeterFactory meterFactory)
    {
        var meter = meterFactory.Create(MeterName);
        _received = meter.CreateCounter<long>("mdv.audit.events.received", "{event}", "Audit events handed to the consumer, by event type.");
        _stored = meter.CreateCounter<long>("mdv.audit.events.stored", "{event}", "Audit events committed to audit_logs as new rows.");
        _duplicates = meter.CreateCounter<long>("mdv.audit.events.duplicates", "{event}", "Audit events already stored (redeliveries), skipped.");
        _rejected = meter.CreateCounter<long>("mdv.audit.events.rejected", "{event}", "Audit events that can never be stored, moved to the error queue, by reason.");
        _unreadable = meter.CreateCounter<long>("mdv.audit.messages.unreadable", "{message}", "Messages moved to the error queue before reaching the consumer (not a readable audit event).");
        _batchSize = meter.CreateHistogram<int>("mdv.audit.batch.size", "{event}", "Events per written batch.",
            advice: new InstrumentAdvice<int> { HistogramBucketBoundaries = [1, 10, 50, 100, 250, 500, 1000, 2500, 5000] });
        _batchDuration = meter.CreateHistogram<double>("mdv.audit.batch.duration", "s", "Time to write and commit one batch.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        _batchFailures = meter.CreateCounter<long>("mdv.audit.batch.failures", "{batch}", "Batch writes that failed and will be retried (PostgreSQL unavailable, schema missing, ...).");
        _lag = meter.CreateHistogram<double>("mdv.audit.events.lag", "s", "From an event's OccurredAt to the commit that acknowledged it (redeliveries included): how far behind the audit trail is.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.1, 0.5, 1, 2, 5, 10, 30, 60, 300, 900, 3600] });
        _partitionsCreated = meter.CreateCounter<long>("mdv.audit.partitions.created", "{partition}", "Monthly partitions created ahead.");
        _partitionsDropped = meter.CreateCounter<long>("mdv.audit.partitions.dropped", "{partition}", "Monthly partitions dropped by retention.");
        _rowsMoved = meter.CreateCounter<long>("mdv.audit.partitions.rows_moved", "{row}", "Rows moved from the default partition into a newly created month.");
        meter.CreateObservableGauge("mdv.audit.queue.messages", () => Observe(static q => q.Messages), "{message}",
            "Messages ready in the audit queue and its error queue, by queue, read from RabbitMQ every few seconds (absent while it cannot be read).");
        meter.CreateObservableGauge("mdv.audit.queue.consumers", () => Observe(static q => q.Consumers), "{consumer}",
            "Consumers attached to the audit queue and its error queue, by queue.");
        _maintenanceFailures = meter.CreateCounter<long>("mdv.audit.partitions.maintenance_failures", "{run}", "Partition maintenance runs that failed (retried within a minute).");
    }

    public void Received(string? eventType) => _received.Add(1, new KeyValuePair<string, object?>("event_type", Category(eventType)));

    public void BatchWritten(int size, int inserted, int duplicates, TimeSpan elapsed)
    {
        _batchSize.Record(size);
        _batchDuration.Record(elapsed.TotalSeconds);
        _stored.Add(inserted);
        if (duplicates > 0)
        {
            _duplicates.Add(duplicates);
        }
    }

    /// <summary>The latest reading of the queues; an empty list withdraws the queue gauges.</summary>
    public void QueuesObserved(IReadOnlyList<AuditQueueDepth> queues) => Volatile.Write(ref _queues, queues);

    public void Lag(TimeSpan lag) => _lag.Record(Math.Max(0, lag.TotalSeconds));

    public void Rejected(string reason) => _rejected.Add(1, new KeyValuePair<string, object?>("reason", reason));

    public void Unreadable() => _unreadable.Add(1);

    public void BatchFailed(string error) => _batchFailures.Add(1, new KeyValuePair<string, object?>("error", error));

    public void PartitionsMaintained(int created, long rowsMoved, int dropped)
    {
        _partitionsCreated.Add(created);
        _rowsMoved.Add(rowsMoved);
        _partitionsDropped.Add(dropped);
    }

    public void MaintenanceFailed() => _maintenanceFailures.Add(1);

    /// <summary>A bounded tag value: the known types, <c>admin</c> for every admin write, <c>other</c> for the rest.</summary>
    internal static string Category(string? eventType)
        => eventType switch
        {
            null => "other",
            _ when eventType.StartsWith(AuditEventTypes.AdminPrefix, StringComparison.Ordinal) => "admin",
            _ when Array.IndexOf(KnownTypes, eventType) >= 0 => eventType,
            _ => "other",
        };

    private IEnumerable<Measurement<long>> Observe(Func<AuditQueueDepth, long> value)
        => Volatile.Read(ref _queues).Select(q => new Measurement<long>(value(q), new KeyValuePair<string, object?>("queue", q.Queue)));
}
