using System.Globalization;
using MdvGateway.Gateway.Auditing;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Readiness: the audit publisher's view of RabbitMQ. Never unhealthy: while the broker is away, events are spooled
/// to disk and nothing is lost, so the node stays in rotation and reports degraded. Healthy "disabled" with
/// <c>Audit:Enabled</c> false (<paramref name="status"/> is then null).
/// </summary>
internal sealed class AuditBrokerHealthCheck(IAuditBrokerStatus? status) : IHealthCheck
{
    public const string Name = "rabbitmq";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(Check());

    private HealthCheckResult Check()
    {
        if (status is null)
        {
            return HealthCheckResult.Healthy("disabled (Audit:Enabled is false)", AdminHealthChecks.State("disabled"));
        }

        var spooled = status.SpoolBytes;
        switch (status.State)
        {
            case AuditBrokerState.Reachable:
                return HealthCheckResult.Healthy(
                    spooled > 0 ? Invariant($"connected, replaying {spooled} spooled byte(s)") : "connected",
                    AdminHealthChecks.State("connected"));
            case AuditBrokerState.Unreachable:
                var since = status.UnreachableSince is { } at ? Invariant($" since {at:yyyy-MM-ddTHH:mm:ssZ}") : "";
                return HealthCheckResult.Degraded(
                    Invariant($"unreachable{since}: audit events are spooled to disk ({spooled} byte(s) waiting) and replayed when it is back"),
                    data: AdminHealthChecks.State("spooling"));
            default:
                return HealthCheckResult.Degraded("connecting: no declaration or publish confirmed yet", data: AdminHealthChecks.State("connecting"));
        }
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
