using System.Net;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// The <c>audit_logs</c> row as EF Core's model knows it. The model exists for migrations (their snapshot and the
/// pending-changes check); rows are written by <see cref="AuditLogWriter"/> with binary COPY, never through EF.
/// </summary>
internal sealed class AuditLogEntry
{
    public long Id { get; set; }

    public Guid EventId { get; set; }

    public string EventType { get; set; } = "";

    public DateTimeOffset OccurredAt { get; set; }

    public DateTimeOffset RecordedAt { get; set; }

    public IPAddress? ClientIp { get; set; }

    public string? RouteId { get; set; }

    public string? Policy { get; set; }

    public string? Actor { get; set; }

    public string Details { get; set; } = "{}";
}
