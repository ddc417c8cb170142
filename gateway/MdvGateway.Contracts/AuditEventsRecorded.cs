namespace MdvGateway.Contracts;

/// <summary>
/// Several audit events carried by one message, so that a burst of them (one aggregated event per client of a botnet)
/// costs one publish and one broker confirmation instead of one each. Added beside <see cref="AuditEventRecorded"/>,
/// which stays valid: a consumer handles both, and a gateway sends only single events while
/// <c>Audit:MaxEventsPerMessage</c> is 1 (for consumers that predate this message).
/// </summary>
/// <remarks>
/// The message is only an envelope: each of <see cref="Events"/> is stored as its own row of <c>audit_logs</c>, and
/// each one's <see cref="AuditEventRecorded.EventId"/> stays the key that makes redelivery harmless. Nothing about an
/// event depends on which message carried it, or with which others.
/// </remarks>
/// <param name="EventId">Unique per message (for tracing it through the broker); never stored.</param>
/// <param name="OccurredAt">When the gateway closed the message, UTC.</param>
/// <param name="Events">The events, in the order they were recorded; at least one.</param>
public sealed record AuditEventsRecorded(
    Guid EventId,
    DateTimeOffset OccurredAt,
    IReadOnlyList<AuditEventRecorded> Events);
