using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.AuditConsumer.Persistence;
using MdvGateway.Contracts;
using Npgsql;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// What both consumers do with the events they were handed, whichever message carried them: validate each one,
/// store the storable ones in one write (<see cref="IAuditLogWriter"/>: bulk, idempotent, committed before it returns),
/// count and log, and report the ones that can never be stored. No MassTransit type here: acknowledging and faulting
/// messages stays with the consumers.
/// </summary>
internal sealed partial class AuditEventStorage(
    IAuditLogWriter writer,
    AuditMetrics metrics,
    TimeProvider timeProvider,
    ILogger<AuditEventStorage> logger)
{
    /// <summary>Stores <paramref name="events"/> and returns once the storable ones are committed.</summary>
    /// <param name="events">The events, in the order the caller knows them by; a null entry is unstorable.</param>
    /// <param name="attempt">0 the first time these events are handled, then the retry attempt (received counts only once).</param>
    /// <param name="cancellationToken">Cancels the write (shutdown); nothing is then acknowledged.</param>
    /// <returns>The events that can never be stored, by index, and how long the write took.</returns>
    /// <exception cref="Exception">The write failed (PostgreSQL unavailable, schema missing): nothing of it counts as stored; retry.</exception>
    public async Task<AuditStorageResult> StoreAsync(IReadOnlyList<AuditEventRecorded?> events, int attempt, CancellationToken cancellationToken)
    {
        var records = new List<AuditRecord>(events.Count);
        var recordIndexes = new List<int>(events.Count);
        var rejections = new List<(int Index, AuditRejection Rejection)>();
        for (var i = 0; i < events.Count; i++)
        {
            var auditEvent = events[i];
            if (attempt == 0)
            {
                metrics.Received(auditEvent?.EventType);
            }

            if (auditEvent is null)
            {
                rejections.Add((i, new AuditRejection(Guid.Empty, AuditRejectionReason.MissingEventId, "the message carries a null event")));
            }
            else if (AuditRecord.TryCreate(auditEvent, out var record, out var rejection))
            {
                records.Add(record);
                recordIndexes.Add(i);
            }
            else
            {
                rejections.Add((i, rejection!));
            }
        }

        var started = timeProvider.GetTimestamp();
        AuditWriteResult result;
        try
        {
            result = await writer.WriteAsync(records, cancellationToken);
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.BatchFailed(Classify(ex));
            Log.WriteFailed(logger, records.Count, attempt + 1, ex.GetType().Name, ex.Message);
            throw;
        }

        var elapsed = timeProvider.GetElapsedTime(started);
        var committed = timeProvider.GetUtcNow();
        var refused = new HashSet<int>();
        foreach (var (index, rejection) in result.Rejected)
        {
            refused.Add(index);
            rejections.Add((recordIndexes[index], rejection));
        }

        // A write whose every event was refused stored nothing: no batch size, no lag.
        var stored = records.Count - refused.Count;
        if (stored > 0)
        {
            metrics.BatchWritten(stored, result.Inserted, stored - result.Inserted, elapsed);
            for (var i = 0; i < records.Count; i++)
            {
                if (!refused.Contains(i))
                {
                    metrics.Lag(committed - records[i].OccurredAt);
                }
            }
        }

        rejections.Sort(static (a, b) => a.Index.CompareTo(b.Index));
        foreach (var (_, rejection) in rejections)
        {
            metrics.Rejected(rejection.Tag);
            Log.Unstorable(logger, rejection.EventId, rejection.Tag, rejection.Detail);
        }

        return new AuditStorageResult(rejections, elapsed);
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

        [LoggerMessage(EventId = 11002, Level = LogLevel.Error, Message = "Audit event {EventId} can never be stored ({Reason}: {Detail}); moving the message that carries it to the error queue")]
        public static partial void Unstorable(ILogger logger, Guid eventId, string reason, string detail);
    }
}
