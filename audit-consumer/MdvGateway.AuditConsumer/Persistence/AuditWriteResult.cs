namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>What one write stored.</summary>
/// <param name="Inserted">Rows added; the rest of the stored records were already there (redelivery).</param>
/// <param name="Rejected">Records PostgreSQL refused for their content, by their index in the written list; everything
/// else is committed.</param>
internal sealed record AuditWriteResult(int Inserted, IReadOnlyList<(int Index, AuditRejection Rejection)> Rejected);
