using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Readiness: Redis connected, or degraded (still 200) while it is away, because rate limits then follow
/// <c>RateLimiting:WhenStoreUnavailable</c> and known bans stay enforced from the local copy. The configuration string
/// is never shown (it may hold a password).
/// </summary>
internal sealed class RedisHealthCheck(RedisConnection redis) : IHealthCheck
{
    public const string Name = "redis";

    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        => Task.FromResult(redis.TryGet()?.IsConnected == true
            ? HealthCheckResult.Healthy("connected", AdminHealthChecks.State("connected"))
            : HealthCheckResult.Degraded(
                "unavailable: rate limits follow RateLimiting:WhenStoreUnavailable, known bans stay enforced from the local copy",
                data: AdminHealthChecks.State("unavailable")));
}
