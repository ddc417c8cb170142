namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>What one maintenance run did. <c>SchemaMissing</c>: <c>audit_logs</c> does not exist (migrations not
/// applied), so nothing was done.</summary>
internal sealed record PartitionMaintenanceReport(bool SchemaMissing, IReadOnlyList<string> Created, long RowsMoved, IReadOnlyList<string> Dropped, long DefaultRowsDeleted)
{
    public static readonly PartitionMaintenanceReport Missing = new(true, [], 0, [], 0);
}
