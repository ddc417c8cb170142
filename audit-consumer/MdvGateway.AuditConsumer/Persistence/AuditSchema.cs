namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>Every name in the audit schema, in one place (migrations, writer, partition maintenance, runbook).</summary>
internal static class AuditSchema
{
    public const string Table = "audit_logs";
    public const string DefaultPartition = "audit_logs_default";

    /// <summary>Monthly partitions are <c>audit_logs_yYYYYmMM</c>, e.g. <c>audit_logs_y2026m11</c>.</summary>
    public const string MonthlyPartitionPrefix = "audit_logs_y";

    public const string PrimaryKey = "pk_audit_logs";
    public const string UniqueEvent = "uq_audit_logs_event_id_occurred_at";
    public const string DetailsIsObject = "ck_audit_logs_details_object";
    public const string ClientIpIndex = "ix_audit_logs_client_ip_occurred_at";
    public const string EventTypeIndex = "ix_audit_logs_event_type_occurred_at";
    public const string AdminActorIndex = "ix_audit_logs_admin_actor_occurred_at";

    /// <summary>The partial index's predicate: admin API writes only (<c>admin.*</c>).</summary>
    public const string AdminActorFilter = "event_type LIKE 'admin.%'";

    /// <summary>Key of the transaction-level advisory lock that serialises partition maintenance across consumers.</summary>
    public const long MaintenanceLockKey = 0x6D64_7661_7564_6974; // "mdvaudit"
}
