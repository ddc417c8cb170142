using System.Collections.Concurrent;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.Admin;

/// <summary>An audit sink that keeps what it is given, discrete events and refusals apart.</summary>
internal sealed class RecordingAuditSink : IAuditSink
{
    private readonly ConcurrentQueue<AuditEventRecorded> _events = new();
    private readonly ConcurrentQueue<(string? Client, string Reason, DateTimeOffset At)> _refusals = new();

    public IReadOnlyList<AuditEventRecorded> Events => [.. _events];

    public IReadOnlyList<(string? Client, string Reason, DateTimeOffset At)> Refusals => [.. _refusals];

    public void RateLimitRejected(string? client, string routeId, string policy, RateLimit limit, DateTimeOffset at)
        => throw new InvalidOperationException("The admin API never rate-limits");

    public void BanBlocked(string? client, DateTimeOffset at)
        => throw new InvalidOperationException("The admin API never enforces bans");

    public void AbuseRefused(string? client, string reason, DateTimeOffset at) => _refusals.Enqueue((client, reason, at));

    public void Record(AuditEventRecorded auditEvent) => _events.Enqueue(auditEvent);
}
