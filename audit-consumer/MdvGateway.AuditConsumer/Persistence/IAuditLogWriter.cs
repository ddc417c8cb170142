namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>Stores audit records in <c>audit_logs</c>, idempotently: an event already stored is skipped.</summary>
internal interface IAuditLogWriter
{
    /// <summary>Stores <paramref name="records"/> and returns once they are committed.</summary>
    /// <returns>How many rows were new, and the records PostgreSQL refused (those are not stored).</returns>
    /// <exception cref="Exception">Anything else (database unreachable, schema missing): nothing from this call was
    /// committed, or everything was (redelivery is harmless); the caller retries.</exception>
    Task<AuditWriteResult> WriteAsync(IReadOnlyList<AuditRecord> records, CancellationToken cancellationToken);
}
