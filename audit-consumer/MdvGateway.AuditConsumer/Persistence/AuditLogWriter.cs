using Npgsql;
using NpgsqlTypes;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// Bulk, idempotent writes: binary COPY of a batch into a temporary table, then one
/// <c>INSERT … SELECT … ON CONFLICT (event_id, occurred_at) DO NOTHING</c> into <c>audit_logs</c>, in one transaction.
/// </summary>
internal sealed partial class AuditLogWriter(NpgsqlDataSource dataSource, ILogger<AuditLogWriter> logger) : IAuditLogWriter
{
    private const string Staging = "audit_logs_incoming";

    // ON COMMIT DROP: the pool resets connections (DISCARD ALL) anyway, so a temporary table never outlives its batch.
    private const string CreateStaging = $"""
        CREATE TEMPORARY TABLE {Staging} (
            event_id    uuid        NOT NULL,
            event_type  text        NOT NULL,
            occurred_at timestamptz NOT NULL,
            client_ip   inet,
            route_id    text,
            policy      text,
            actor       text,
            details     jsonb       NOT NULL
        ) ON COMMIT DROP
        """;

    private const string Copy = $"COPY {Staging} (event_id, event_type, occurred_at, client_ip, route_id, policy, actor, details) FROM STDIN (FORMAT BINARY)";

    // A fixed row order makes concurrent batches that share events (a redelivery racing its original) take their
    // unique-index locks in the same order, so they wait for each other instead of deadlocking.
    private const string Insert = $"""
        INSERT INTO {AuditSchema.Table} (event_id, event_type, occurred_at, client_ip, route_id, policy, actor, details)
        SELECT event_id, event_type, occurred_at, client_ip, route_id, policy, actor, details
        FROM {Staging}
        ORDER BY occurred_at, event_id
        ON CONFLICT (event_id, occurred_at) DO NOTHING
        """;

    public async Task<AuditWriteResult> WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        if (records.Count == 0)
        {
            return new AuditWriteResult(0, []);
        }

        try
        {
            return new AuditWriteResult(await WriteBatchAsync(records, cancellationToken), []);
        }
        catch (Exception ex) when (IsContentError(ex) && records.Count > 1)
        {
            // Something in the batch got past validation but not past PostgreSQL. Store the events one by one so the
            // others are not held hostage, and report the ones PostgreSQL refuses.
            Log.BatchRefused(logger, records.Count, ex.GetType().Name, ex.Message);
            var inserted = 0;
            var rejected = new List<(int, AuditRejection)>();
            for (var i = 0; i < records.Count; i++)
            {
                try
                {
                    inserted += await WriteBatchAsync([records[i]], cancellationToken);
                }
                catch (Exception single) when (IsContentError(single))
                {
                    rejected.Add((i, Refused(records[i], single)));
                }
            }

            return new AuditWriteResult(inserted, rejected);
        }
        catch (Exception ex) when (IsContentError(ex))
        {
            return new AuditWriteResult(0, [(0, Refused(records[0], ex))]);
        }
    }

    private async Task<int> WriteBatchAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var create = new NpgsqlCommand(CreateStaging, connection, transaction))
        {
            await create.ExecuteNonQueryAsync(cancellationToken);
        }

        await using (var importer = await connection.BeginBinaryImportAsync(Copy, cancellationToken))
        {
            foreach (var record in records)
            {
                await importer.StartRowAsync(cancellationToken);
                await importer.WriteAsync(record.EventId, NpgsqlDbType.Uuid, cancellationToken);
                await importer.WriteAsync(record.EventType, NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(record.OccurredAt, NpgsqlDbType.TimestampTz, cancellationToken);
                await WriteNullableAsync(importer, record.ClientIp, NpgsqlDbType.Inet, cancellationToken);
                await WriteNullableAsync(importer, record.RouteId, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, record.Policy, NpgsqlDbType.Text, cancellationToken);
                await WriteNullableAsync(importer, record.Actor, NpgsqlDbType.Text, cancellationToken);
                await importer.WriteAsync(record.Details, NpgsqlDbType.Jsonb, cancellationToken);
            }

            await importer.CompleteAsync(cancellationToken);
        }

        int inserted;
        await using (var insert = new NpgsqlCommand(Insert, connection, transaction))
        {
            inserted = await insert.ExecuteNonQueryAsync(cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return inserted;
    }

    private static AuditRejection Refused(AuditRecord record, Exception exception)
        => new(record.EventId, AuditRejectionReason.DatabaseRejected, $"refused by PostgreSQL: {exception.Message}");

    private static Task WriteNullableAsync<T>(NpgsqlBinaryImporter importer, T? value, NpgsqlDbType type, CancellationToken cancellationToken)
        => value is null ? importer.WriteNullAsync(cancellationToken) : importer.WriteAsync(value, type, cancellationToken);

    private static Task WriteNullableAsync(NpgsqlBinaryImporter importer, NpgsqlInet? value, NpgsqlDbType type, CancellationToken cancellationToken)
        => value is { } inet ? importer.WriteAsync(inet, type, cancellationToken) : importer.WriteNullAsync(cancellationToken);

    /// <summary>
    /// Errors caused by a row's content (SQLSTATE classes 22 data exception, 23 integrity violation, 54 program limit
    /// exceeded such as an oversized index entry), as opposed to errors of the database itself, which are retried.
    /// </summary>
    internal static bool IsContentError(Exception exception) => exception switch
    {
        PostgresException pg => pg.SqlState.StartsWith("22", StringComparison.Ordinal)
                                || (pg.SqlState.StartsWith("23", StringComparison.Ordinal) && pg.SqlState != PostgresErrorCodes.UniqueViolation)
                                || pg.SqlState.StartsWith("54", StringComparison.Ordinal),
        System.Text.EncoderFallbackException => true,
        _ => false,
    };

    private static partial class Log
    {
        [LoggerMessage(EventId = 12001, Level = LogLevel.Warning, Message = "PostgreSQL refused a batch of {Count} audit events ({ErrorType}: {Error}); storing them one by one to isolate the bad ones")]
        public static partial void BatchRefused(ILogger logger, int count, string errorType, string error);
    }
}
