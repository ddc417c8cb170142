using MdvGateway.AuditConsumer.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Npgsql;

namespace MdvGateway.AuditConsumer.Persistence;

internal static class PersistenceServiceCollectionExtensions
{
    /// <summary>The writer, the migrator, partition maintenance and the database readiness checks.</summary>
    public static IServiceCollection AddAuditPersistence(this IServiceCollection services, AuditConsumerSettings settings)
    {
        services.TryAddSingleton(_ => NpgsqlDataSource.Create(settings.ConnectionString));
        services.TryAddSingleton(_ => new SchemaMigrator(settings.ConnectionString));
        services.TryAddSingleton<IAuditLogWriter, AuditLogWriter>();
        services.TryAddSingleton<PartitionMaintainer>();
        services.TryAddSingleton<SchemaStartupGate>();
        services.AddHostedService<SchemaStartupService>();
        services.AddHostedService<PartitionMaintenanceService>();
        services.AddHealthChecks()
            .AddCheck<DatabaseHealthCheck>(DatabaseHealthCheck.Name, tags: ["ready"], timeout: TimeSpan.FromSeconds(5))
            .AddCheck<SchemaHealthCheck>(SchemaHealthCheck.Name, tags: ["ready"], timeout: TimeSpan.FromSeconds(5));
        return services;
    }
}
