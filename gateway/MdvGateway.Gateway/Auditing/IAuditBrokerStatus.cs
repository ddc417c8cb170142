namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// What the audit publisher currently believes about RabbitMQ, for readiness and metrics. It is the publisher's view:
/// it learns that the broker went away from the next publish (or topology declaration) that fails, and that it is
/// back from the next one that is confirmed; with nothing to publish it does not probe.
/// </summary>
internal interface IAuditBrokerStatus
{
    /// <summary>The publisher's current belief.</summary>
    AuditBrokerState State { get; }

    /// <summary>Since when the broker has been unreachable, or null while it is not.</summary>
    DateTimeOffset? UnreachableSince { get; }

    /// <summary>Bytes of audit events waiting in the disk spool.</summary>
    long SpoolBytes { get; }
}
