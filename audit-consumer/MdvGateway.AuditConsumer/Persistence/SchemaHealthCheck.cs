using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>Readiness: every migration this build knows is applied. A database ahead of the build (a newer
/// consumer migrated it) is fine: migrations only ever add.</summary>
internal sealed class SchemaHealthCheck(SchemaMigrator migrator) : IHealthCheck
{
    public const string Name = "schema";

    public async Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        try
        {
            var pending = await migrator.PendingAsync(cancellationToken);
            return pending.Count == 0
                ? HealthCheckResult.Healthy($"up to date ({migrator.All().Count} migrations applied)")
                : HealthCheckResult.Unhealthy($"migrations not applied: {string.Join(", ", pending)} (run: dotnet MdvGateway.AuditConsumer.dll migrate)");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            return HealthCheckResult.Unhealthy($"unknown ({ex.GetType().Name}: {ex.Message})");
        }
    }
}
