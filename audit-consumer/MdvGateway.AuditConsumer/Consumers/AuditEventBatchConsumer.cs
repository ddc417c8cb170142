using MassTransit;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.AuditConsumer.Persistence;
using MdvGateway.Contracts;
using Npgsql;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// Stores audit events a batch at a time. A batch's messages are acknowledged only when this method returns, which is
/// after their rows are committed. If the write fails, the exception goes to the retry policy of
/// <see cref="AuditEventBatchConsumerDefinition"/> (the messages stay unacknowledged meanwhile). Events that can never
/// be stored are the only ones that fault: the others are marked consumed first, so they are acknowledged while the
/// unstorable ones go to the error queue.
/// </summary>
internal sealed partial class AuditEventBatchConsumer(
    IAuditLogWriter writer,
    AuditMetrics metrics,
    TimeProvider timeProvider,
    ILogger<AuditEventBatchConsumer> logger) : IConsumer<Batch<AuditEventRecorded>>
{
    public async Task Consume(ConsumeContext<Batch<AuditEventRecorded>> context)
    {
        var attempt = context.GetRetryAttempt();
        var records = new List<AuditRecord>(context.Message.Length);
        var storable = new List<ConsumeContext<AuditEventRecorded>>(context.Message.Length);
        var rejections = new List<AuditRejection>();
        foreach (var message in context.Message)
        {
            if (attempt == 0)
            {
                metrics.Received(message.Message.EventType);
            }

            if (AuditRecord.TryCreate(message.Message, out var record, out var rejection))
            {
                records.Add(record);
                storable.Add(message);
            }
            else
            {
                rejections.Add(rejection!);
            }
        }

        var started = timeProvider.GetTimestamp();
        AuditWriteResult result;
        try
        {
            result = await writer.WriteAsync(records, context.CancellationToken);
        }
        catch (Exception ex) when (!context.CancellationToken.IsCancellationRequested)
        {
            metrics.BatchFailed(Classify(ex));
            Log.WriteFailed(logger, records.Count, attempt + 1, ex.GetType().Name, ex.Message);
            throw;
        }

        var elapsed = timeProvider.GetElapsedTime(started);
        var committed = timeProvider.GetUtcNow();
        foreach (var (index, rejection) in result.Rejected.OrderByDescending(r => r.Index))
        {
            rejections.Add(rejection);
            storable.RemoveAt(index);
            records.RemoveAt(index);
        }

        // A batch whose every event was refused wrote nothing: no batch size, no lag.
        if (records.Count > 0)
        {
            metrics.BatchWritten(records.Count, result.Inserted, records.Count - result.Inserted, elapsed);
            foreach (var record in records)
            {
                metrics.Lag(committed - record.OccurredAt);
            }
        }

        if (rejections.Count == 0)
        {
            return;
        }

        foreach (var rejection in rejections)
        {
            metrics.Rejected(rejection.Tag);
            Log.Unstorable(logger, rejection.EventId, rejection.Tag, rejection.Detail);
        }

        // Marked consumed, these are acknowledged even though the batch faults below (MassTransit's batch consumer
        // faults only the messages not yet delivered).
        foreach (var message in storable)
        {
            await message.NotifyConsumed(elapsed, nameof(AuditEventBatchConsumer));
        }

        throw new UnstorableAuditEventsException(rejections);
    }

    /// <summary>A bounded metric tag for why a write failed.</summary>
    private static string Classify(Exception exception) => exception switch
    {
        PostgresException { SqlState: PostgresErrorCodes.UndefinedTable } => "schema_missing",
        PostgresException => "postgres_error",
        NpgsqlException or TimeoutException => "postgres_unavailable",
        _ => "other",
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 11001, Level = LogLevel.Warning, Message = "Could not store a batch of {Count} audit events (attempt {Attempt}, {ErrorType}: {Error}); retrying with back-off, the messages stay queued")]
        public static partial void WriteFailed(ILogger logger, int count, int attempt, string errorType, string error);

        [LoggerMessage(EventId = 11002, Level = LogLevel.Error, Message = "Audit event {EventId} can never be stored ({Reason}: {Detail}); moving it to the error queue")]
        public static partial void Unstorable(ILogger logger, Guid eventId, string reason, string detail);
    }
}
