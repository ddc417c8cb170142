using MassTransit;
using MdvGateway.AuditConsumer.Configuration;
using Microsoft.Extensions.Options;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// Where and how <see cref="AuditEventBatchConsumer"/> runs: queue <c>audit-events</c> (beside
/// <see cref="AuditEventsRecordedConsumer"/>), batches of up to
/// <c>Audit:BatchSize</c> events or <c>Audit:BatchTimeLimit</c>, <c>Audit:ConcurrentBatches</c> at once, and a retry
/// policy that never gives up on a batch PostgreSQL could not take.
/// </summary>
internal sealed class AuditEventBatchConsumerDefinition : ConsumerDefinition<AuditEventBatchConsumer>
{
    private static readonly TimeSpan FirstRetryDelay = TimeSpan.FromMilliseconds(200);

    private readonly AuditOptions _options;

    public AuditEventBatchConsumerDefinition(IOptions<AuditOptions> options)
    {
        _options = options.Value;
        EndpointName = AuditTopology.QueueName;
    }

    protected override void ConfigureConsumer(
        IReceiveEndpointConfigurator endpointConfigurator,
        IConsumerConfigurator<AuditEventBatchConsumer> consumerConfigurator,
        IRegistrationContext context)
    {
        // MassTransit raises the endpoint's prefetch and concurrency to BatchSize × ConcurrentBatches from these.
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(_options.BatchSize)
            .SetTimeLimit(_options.BatchTimeLimit)
            .SetTimeLimitStart(BatchTimeLimitStart.FromFirst)
            .SetConcurrencyLimit(_options.ConcurrentBatches));

        // On the batch, not the endpoint: a retried batch stays one batch (endpoint-level retry would redeliver its
        // messages one by one). Without a limit: an audit event must not reach the error queue because PostgreSQL
        // was down for longer than some count of attempts. The messages stay unacknowledged (so RabbitMQ redelivers
        // them if this process dies) and the back-off is capped at Audit:RetryMaxDelay. On shutdown the wait is
        // cancelled and the messages are returned to the queue.
        consumerConfigurator.UseMessageRetry(retry => RetryUntilStored(retry, _options));
    }

    /// <summary>Retries a write PostgreSQL could not take with capped back-off, forever; never an unstorable event.</summary>
    internal static void RetryUntilStored(IRetryConfigurator retry, AuditOptions options)
    {
        retry.Ignore<UnstorableAuditEventsException>();
        retry.Exponential(int.MaxValue, FirstRetryDelay, options.RetryMaxDelay, FirstRetryDelay);
    }
}
