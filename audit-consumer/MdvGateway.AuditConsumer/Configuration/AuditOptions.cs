namespace MdvGateway.AuditConsumer.Configuration;

/// <summary>
/// How the consumer stores and keeps audit events: section <c>Audit</c>. Read once at start.
/// </summary>
public sealed class AuditOptions
{
    public const string SectionName = "Audit";

    /// <summary>
    /// Apply pending migrations when the process starts. Default <c>false</c>: production schema changes are an
    /// explicit step (<c>dotnet MdvGateway.AuditConsumer.dll migrate</c>); until they are applied, <c>/health/ready</c>
    /// answers 503 and names the missing migrations.
    /// </summary>
    public bool MigrateOnStart { get; set; }

    /// <summary>
    /// Days a month partition is kept after its last day. Default <c>400</c>. Whole partitions are dropped, so an
    /// event is kept at least this long and at most about a month longer.
    /// </summary>
    public int RetentionDays { get; set; } = 400;

    /// <summary>Monthly partitions created ahead of the current month (UTC). Default <c>3</c>.</summary>
    public int PartitionsAhead { get; set; } = 3;

    /// <summary>How often partitions are created ahead and old ones dropped. Default <c>01:00:00</c>; also runs at start.</summary>
    public TimeSpan PartitionMaintenanceInterval { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Most events written in one transaction. Default <c>500</c>.</summary>
    public int BatchSize { get; set; } = 500;

    /// <summary>Longest a partial batch waits for more events before it is written. Default <c>00:00:00.200</c>.</summary>
    public TimeSpan BatchTimeLimit { get; set; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Batches written at the same time by one consumer process. Default <c>2</c>.</summary>
    public int ConcurrentBatches { get; set; } = 2;

    /// <summary>
    /// Messages RabbitMQ hands this process ahead of their acknowledgement (the queue's prefetch). Default <c>100</c>.
    /// It bounds memory: a gateway's message carries up to 500 events (<c>Audit:MaxEventsPerMessage</c>) and takes
    /// about 1 MB in memory once read, so this is also the most such messages held at once. Single-event messages
    /// (older gateways, or <c>Audit:MaxEventsPerMessage</c> 1) are written in batches of at most
    /// <c>PrefetchCount / ConcurrentBatches</c>, and <c>Audit:BatchSize</c>.
    /// </summary>
    public int PrefetchCount { get; set; } = 100;

    /// <summary>
    /// Longest wait between two attempts to write a batch while PostgreSQL is unavailable. Default <c>00:00:30</c>.
    /// Attempts start at about 200 ms and double up to this value; they never give up, and the batch's messages stay
    /// unacknowledged in RabbitMQ meanwhile.
    /// </summary>
    public TimeSpan RetryMaxDelay { get; set; } = TimeSpan.FromSeconds(30);
}
