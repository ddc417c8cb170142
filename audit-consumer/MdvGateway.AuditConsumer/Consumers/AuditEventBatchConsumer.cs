using MassTransit;
using MdvGateway.Contracts;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// Stores single-event messages (<see cref="AuditEventRecorded"/>, what gateways publish with
/// <c>Audit:MaxEventsPerMessage</c> 1 and what gateways older than the batched message publish) a batch at a time. A
/// batch's messages are acknowledged only when this method returns, which is after their rows are committed. If the
/// write fails, the exception goes to the retry policy of <see cref="AuditEventBatchConsumerDefinition"/> (the messages
/// stay unacknowledged meanwhile). Events that can never be stored are the only ones that fault: the others are marked
/// consumed first, so they are acknowledged while the unstorable ones go to the error queue.
/// </summary>
internal sealed class AuditEventBatchConsumer(AuditEventStorage storage) : IConsumer<Batch<AuditEventRecorded>>
{
    public async Task Consume(ConsumeContext<Batch<AuditEventRecorded>> context)
    {
        var events = new AuditEventRecorded?[context.Message.Length];
        for (var i = 0; i < events.Length; i++)
        {
            events[i] = context.Message[i].Message;
        }

        var result = await storage.StoreAsync(events, context.GetRetryAttempt(), context.CancellationToken);
        if (result.Rejections.Count == 0)
        {
            return;
        }

        // Marked consumed, these are acknowledged even though the batch faults below (MassTransit's batch consumer
        // faults only the messages not yet delivered).
        var unstorable = result.Rejections.Select(r => r.Index).ToHashSet();
        for (var i = 0; i < events.Length; i++)
        {
            if (!unstorable.Contains(i))
            {
                await context.Message[i].NotifyConsumed(result.Elapsed, nameof(AuditEventBatchConsumer));
            }
        }

        throw new UnstorableAuditEventsException([.. result.Rejections.Select(r => r.Rejection)]);
    }
}
