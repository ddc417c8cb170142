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
        // MassTransit would raise the endpoint's prefetch to BatchSize × ConcurrentBatches (1000 by default). The queue
        // also carries messages of up to 500 events, and a thousand of those in memory is a gigabyte: the prefetch is
        // Audit:PrefetchCount instead, and a batch holds at most its share of it, so that it fills and is written at
        // once rather than waiting for messages the prefetch cannot deliver.
        consumerConfigurator.Options<BatchOptions>(batch => batch
            .SetMessageLimit(MessagesPerBatch(_options))
            .SetTimeLimit(_options.BatchTimeLimit)
            .SetTimeLimitStart(BatchTimeLimitStart.FromFirst)
            .SetConcurrencyLimit(_options.ConcurrentBatches)
            .SetConfigurationCallback((_, endpoint) =>
            {
                endpoint.PrefetchCount = _options.PrefetchCount;
                endpoint.ConcurrentMessageLimit = _options.PrefetchCount;
            }));

        // On the batch, not the endpoint: a retried batch stays one batch (endpoint-level retry would redeliver its
        // messages one by one). Without a limit: an audit event must not reach the error queue because PostgreSQL
        // was down for longer than some count of attempts. The messages stay unacknowledged (so RabbitMQ redelivers
        // them if this process dies) and the back-off is capped at Audit:RetryMaxDelay. On shutdown the wait is
        // cancelled and the messages are returned to the queue.
        consumerConfigurator.UseMessageRetry(retry => RetryUntilStored(retry, _options));
    }

    /// <summary>Single-event messages per batch: <c>Audit:BatchSize</c>, or the batch's share of the prefetch if smaller.</summary>
    internal static int MessagesPerBatch(AuditOptions options)
        => Math.Max(1, Math.Min(options.BatchSize, options.PrefetchCount / options.ConcurrentBatches));

    /// <summary>Retries a write PostgreSQL could not take with capped back-off, forever; never an unstorable event.</summary>
    internal static void RetryUntilStored(IRetryConfigurator retry, AuditOptions options)
    {
        retry.Ignore<UnstorableAuditEventsException>();
        retry.Exponential(int.MaxValue, FirstRetryDelay, options.RetryMaxDelay, FirstRetryDelay);
    }
}
