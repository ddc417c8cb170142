using MassTransit;
using MdvGateway.Contracts;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// Stores the events of one <see cref="AuditEventsRecorded"/> message (up to the gateway's
/// <c>Audit:MaxEventsPerMessage</c>) in one write, and acknowledges the message only when this method returns, after
/// the rows are committed. The message is already a batch, so it is not batched again: each message is one transaction
/// of the same bulk writer the single-event batches use, and <c>Audit:ConcurrentBatches</c> of them run at once.
/// Redelivery is harmless: each inner event's <see cref="AuditEventRecorded.EventId"/> is stored once.
/// </summary>
/// <remarks>
/// A message is acknowledged or faulted as a whole. If some of its events can never be stored, the others are
/// committed first and then the message faults with <see cref="UnstorableAuditEventsException"/> (naming the
/// unstorable event ids), so it lands in the error queue whole: moving it back after a fix stores the rest and skips
/// what is already there.
/// </remarks>
internal sealed class AuditEventsRecordedConsumer(AuditEventStorage storage) : IConsumer<AuditEventsRecorded>
{
    public async Task Consume(ConsumeContext<AuditEventsRecorded> context)
    {
        // A message without its list is read as empty: nothing to store, nothing lost.
        IReadOnlyList<AuditEventRecorded?> events = context.Message.Events ?? [];
        var result = await storage.StoreAsync(events, context.GetRetryAttempt(), context.CancellationToken);
        if (result.Rejections.Count > 0)
        {
            throw new UnstorableAuditEventsException([.. result.Rejections.Select(r => r.Rejection)]);
        }
    }
}
