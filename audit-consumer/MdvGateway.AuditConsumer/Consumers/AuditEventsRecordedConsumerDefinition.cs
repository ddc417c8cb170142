using MassTransit;
using MdvGateway.AuditConsumer.Configuration;
using Microsoft.Extensions.Options;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// Where and how <see cref="AuditEventsRecordedConsumer"/> runs: on queue <c>audit-events</c> beside
/// <see cref="AuditEventBatchConsumer"/> (both message exchanges are bound to it), <c>Audit:ConcurrentBatches</c>
/// messages at once (each is one write), and the same retry policy: never give up on a message PostgreSQL could not
/// take, never retry one that can never be stored.
/// </summary>
internal sealed class AuditEventsRecordedConsumerDefinition : ConsumerDefinition<AuditEventsRecordedConsumer>
{
    private readonly AuditOptions _options;

    public AuditEventsRecordedConsumerDefinition(IOptions<AuditOptions> options)
    {
        _options = options.Value;
        EndpointName = AuditTopology.QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<AuditEventsRecordedConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // On the consumer, not the endpoint: the endpoint's limits are sized for the single-event batches it also
        // feeds. Messages beyond this wait, unacknowledged, in the prefetch.
        consumerConfigurator.UseConcurrentMessageLimit(_options.ConcurrentBatches);
        consumerConfigurator.UseMessageRetry(retry => AuditEventBatchConsumerDefinition.RetryUntilStored(retry, _options));
    }
}
