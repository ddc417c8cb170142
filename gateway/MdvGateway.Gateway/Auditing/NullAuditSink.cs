using MdvGateway.Contracts;
using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Auditing;

/// <summary>The sink while <c>Audit:Enabled</c> is false.</summary>
internal sealed class NullAuditSink : IAuditSink
{
    public static readonly NullAuditSink Instance = new();

    private NullAuditSink()
    {
    }

    public void RateLimitRejected(string? client, string routeId, string policy, RateLimit limit, DateTimeOffset at)
    {
    }

    public void BanBlocked(string? client, DateTimeOffset at)
    {
    }

    public void AbuseRefused(string? client, string reason, DateTimeOffset at)
    {
    }

    public void Record(AuditEventRecorded auditEvent)
    {
    }
}
