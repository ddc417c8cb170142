using MassTransit;
using MdvGateway.AuditConsumer.Configuration;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.Contracts;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MdvGateway.AuditConsumer.Consumers;

internal static class ConsumersServiceCollectionExtensions
{
    /// <summary>The name of the broker's readiness check (MassTransit's bus health).</summary>
    public const string HealthCheckName = "rabbitmq";

    /// <summary>
    /// MassTransit on RabbitMQ with both audit consumers (single-event messages in batches, and messages carrying many
    /// events) on queue <c>audit-events</c>, and the monitor of that
    /// queue's depth. The host starts without waiting for the broker; readiness reports it until the bus is connected.
    /// </summary>
    public static IServiceCollection AddAuditConsumers(this IServiceCollection services, RabbitMqOptions rabbitMq)
    {
        services.AddMassTransit(bus =>
        {
            bus.AddConsumer<AuditEventBatchConsumer, AuditEventBatchConsumerDefinition>();
            bus.AddConsumer<AuditEventsRecordedConsumer, AuditEventsRecordedConsumerDefinition>();
            bus.ConfigureHealthCheckOptions(health =>
            {
                health.Name = HealthCheckName;
                health.Tags.Add("ready");
            });
            bus.UsingRabbitMq((context, rabbit) =>
            {
                rabbit.Host(rabbitMq.Host, rabbitMq.Port, rabbitMq.VirtualHost, host =>
                {
                    host.Username(rabbitMq.Username);
                    host.Password(rabbitMq.Password);
                });
                // Pinned, as the gateway pins it: renaming or moving the contract type must not move the exchange.
                rabbit.Message<AuditEventRecorded>(message => message.SetEntityName(AuditTopology.MessageExchange));
                rabbit.Message<AuditEventsRecorded>(message => message.SetEntityName(AuditTopology.BatchMessageExchange));
                rabbit.ConnectReceiveObserver(new UnreadableMessageObserver(
                    context.GetRequiredService<AuditMetrics>(), context.GetRequiredService<ILogger<UnreadableMessageObserver>>()));
                rabbit.ConfigureEndpoints(context);
            });
        });
        services.TryAddSingleton<AuditEventStorage>();
        services.AddHostedService<AuditQueueMonitor>();
        services.Configure<MassTransitHostOptions>(host =>
        {
            host.WaitUntilStarted = false;
            // A healthy batch commits in milliseconds; one still running after 5 s is retrying against an unavailable
            // PostgreSQL. Cancelling it then returns its messages to the queue (nothing was committed, or everything
            // was and redelivery is harmless), so a stop during an outage does not take the whole grace period.
            host.ConsumerStopTimeout = TimeSpan.FromSeconds(5);
            host.StopTimeout = TimeSpan.FromSeconds(15);
        });
        return services;
    }
}
