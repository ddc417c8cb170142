using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MdvGateway.Gateway.Auditing;

public static class AuditingServiceCollectionExtensions
{
    /// <summary>
    /// The audit pipeline from the <c>Audit</c> section: aggregation of rejections, the bounded queue, the publisher to
    /// RabbitMQ and the disk spool. Locks the spool directory at once, so a second gateway pointed at the same directory
    /// fails here, before it listens on anything. With <c>Audit:Enabled</c> false, events are discarded.
    /// </summary>
    /// <param name="services">The gateway's services.</param>
    /// <param name="options">The validated <c>Audit</c> section.</param>
    /// <param name="contentRootPath">What a relative <see cref="AuditOptions.SpoolDirectory"/> is relative to.</param>
    /// <exception cref="GatewayConfigurationException">The spool directory cannot be created, or another process holds it.</exception>
    public static IServiceCollection AddAuditing(this IServiceCollection services, AuditOptions options, string contentRootPath)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            services.TryAddSingleton<IAuditSink>(NullAuditSink.Instance);
            return services;
        }

        var directoryLock = SpoolDirectoryLock.Acquire(Path.GetFullPath(options.SpoolDirectory, contentRootPath));
        services.TryAddSingleton(options);
        services.TryAddSingleton(sp => new AuditSpool(
            directoryLock,
            options.MaxSpoolBytes,
            sp.GetRequiredService<GatewayMetrics>(),
            sp.GetRequiredService<ILogger<AuditSpool>>()));
        services.TryAddSingleton(sp =>
        {
            var spool = sp.GetRequiredService<AuditSpool>();
            var metrics = sp.GetRequiredService<GatewayMetrics>();
            var queue = new AuditQueue(options.QueueCapacity, spool, metrics);
            metrics.ObserveAudit(() => spool.Bytes, () => queue.Count);
            return queue;
        });
        services.TryAddSingleton(sp =>
        {
            var sink = new AuditSink(sp.GetRequiredService<AuditQueue>(), sp.GetRequiredService<TimeProvider>());
            sp.GetRequiredService<GatewayMetrics>().ObserveAuditAggregates(() => sink.AggregateBuckets);
            return sink;
        });
        services.TryAddSingleton<IAuditSink>(sp => sp.GetRequiredService<AuditSink>());
        services.TryAddSingleton<IAuditTransport, MassTransitAuditTransport>();
        services.TryAddSingleton<AuditPublisher>();
        services.TryAddSingleton<IAuditBrokerStatus>(sp => sp.GetRequiredService<AuditPublisher>());
        services.AddHostedService(sp => sp.GetRequiredService<AuditPublisher>());
        services.AddHostedService<ConfigurationAuditor>();
        return services;
    }
}
