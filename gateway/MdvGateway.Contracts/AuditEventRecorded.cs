using System.Text.Json;

namespace MdvGateway.Contracts;

/// <summary>
/// One entry of the audit trail, as the gateway publishes it and the audit consumer stores it (one row of
/// <c>audit_logs</c>). Immutable; new information is added as new fields or new <see cref="Details"/> members,
/// never by changing what an existing one means.
/// </summary>
/// <param name="EventId">Unique per event; the consumer stores each event id once, so redelivery is harmless.</param>
/// <param name="OccurredAt">When it happened (for aggregates: the end of the aggregation interval), UTC.</param>
/// <param name="EventType">One of <see cref="AuditEventTypes"/>.</param>
/// <param name="ClientIp">The client address or ban target the event is about, if any (IP or CIDR text).</param>
/// <param name="RouteId">The YARP route, if any.</param>
/// <param name="Policy">The rate-limit policy, if any.</param>
/// <param name="Actor">The gateway node id, or the admin key's name for admin actions.</param>
/// <param name="Details">Event-specific members, stored as <c>jsonb</c>; see <see cref="AuditEventTypes"/>.</param>
public sealed record AuditEventRecorded(
    Guid EventId,
    DateTimeOffset OccurredAt,
    string EventType,
    string? ClientIp,
    string? RouteId,
    string? Policy,
    string? Actor,
    JsonElement Details);
