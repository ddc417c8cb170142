using MdvGateway.Gateway.IpBans;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Readiness: unhealthy (503) until the ban list has been read from Redis once, because a node that cannot enforce
/// bans must not take traffic. Afterwards always healthy: the local copy stays in force whatever Redis does.
/// </summary>
internal sealed class BanCacheHealthCheck(BanCache bans) : IHealthCheck
{
    public const string Name = "banCache";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(bans.IsLoaded
            ? HealthCheckResult.Healthy($"loaded, {bans.Count} active ban(s)", AdminHealthChecks.State("loaded"))
            : HealthCheckResult.Unhealthy("loading: the ban list has not been read from Redis yet", data: AdminHealthChecks.State("loading")));
}
