namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// The <c>Audit</c> section: where audit events go (RabbitMQ), where they wait while it is away (the disk spool), and
/// how rejections are aggregated. Read once at start; a change needs a restart.
/// </summary>
public sealed class AuditOptions
{
    public const string SectionName = "Audit";

    /// <summary>Whether the gateway records audit events at all. Default true.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The broker the events are published to.</summary>
    public AuditRabbitMqOptions RabbitMq { get; set; } = new();

    /// <summary>
    /// Where events wait while RabbitMQ cannot be reached, relative to the content root unless absolute. One gateway
    /// process owns it (an exclusive lock on <c>.lock</c> inside it). Default <c>.local/audit-spool</c>.
    /// </summary>
    public string SpoolDirectory { get; set; } = ".local/audit-spool";

    /// <summary>
    /// Rate-limit rejections and banned requests of one client are counted for this long and recorded as one event
    /// with the exact count. Default 00:00:01.
    /// </summary>
    public TimeSpan AggregationInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Events held in memory on their way to the broker; beyond this they go to the spool. Default 50000: each
    /// aggregation interval queues one event per client at once (20,000 for a botnet of 20,000 addresses), and the
    /// queue must hold such a burst, and the next one, while the previous is being confirmed (README, "Audit").
    /// </summary>
    public int QueueCapacity { get; set; } = 50_000;

    /// <summary>
    /// Most audit events carried by one RabbitMQ message (<c>AuditEventsRecorded</c>); a message also stays under about
    /// 256 KiB, and waits at most 50 ms for more events to fill it. Default 500. 1 publishes every event as a message of
    /// its own (<c>AuditEventRecorded</c>), the only kind audit consumers older than the batched message understand:
    /// keep 1 until every consumer is upgraded (deploy/README.md). Between 1 and 10000.
    /// </summary>
    public int MaxEventsPerMessage { get; set; } = 500;

    /// <summary>
    /// The most the spool may hold on disk, in bytes. Events that do not fit are dropped, logged and counted in
    /// <c>mdv.gateway.audit.dropped</c>. Default 1073741824 (1 GiB).
    /// </summary>
    public long MaxSpoolBytes { get; set; } = 1L << 30;

    /// <summary>
    /// How long a publish (with its broker confirmation) may take before the broker is treated as away and the events
    /// are spooled. Also the budget for publishing what is queued at shutdown. Default 00:00:05.
    /// </summary>
    public TimeSpan PublishTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
