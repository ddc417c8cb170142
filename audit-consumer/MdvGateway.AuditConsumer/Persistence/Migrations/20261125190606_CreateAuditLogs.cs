using Microsoft.EntityFrameworkCore.Migrations;

namespace MdvGateway.AuditConsumer.Persistence.Migrations;

/// <summary>
/// <c>audit_logs</c> as DESIGN.md fixes it, partitioned by month on <c>occurred_at</c>, with its default partition and
/// the security team's two indexes. EF Core cannot express partitioning, so the SQL is written here; the monthly
/// partitions themselves are created (and dropped) by the consumer's partition maintenance, not by migrations.
/// </summary>
public partial class CreateAuditLogs : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql($"""
            CREATE TABLE {AuditSchema.Table} (
                id          bigint      GENERATED ALWAYS AS IDENTITY,
                event_id    uuid        NOT NULL,
                event_type  text        NOT NULL,
                occurred_at timestamptz NOT NULL,
                recorded_at timestamptz NOT NULL DEFAULT now(),
                client_ip   inet,
                route_id    text,
                policy      text,
                actor       text,
                details     jsonb       NOT NULL,
                CONSTRAINT {AuditSchema.PrimaryKey} PRIMARY KEY (id, occurred_at),
                CONSTRAINT {AuditSchema.UniqueEvent} UNIQUE (event_id, occurred_at),
                CONSTRAINT {AuditSchema.DetailsIsObject} CHECK (jsonb_typeof(details) = 'object')
            ) PARTITION BY RANGE (occurred_at);
            """);
        migrationBuilder.Sql($"CREATE TABLE {AuditSchema.DefaultPartition} PARTITION OF {AuditSchema.Table} DEFAULT;");
        migrationBuilder.Sql($"CREATE INDEX {AuditSchema.ClientIpIndex} ON {AuditSchema.Table} (client_ip, occurred_at);");
        migrationBuilder.Sql($"CREATE INDEX {AuditSchema.EventTypeIndex} ON {AuditSchema.Table} (event_type, occurred_at);");
        migrationBuilder.Sql($"COMMENT ON TABLE {AuditSchema.Table} IS 'MdvGateway audit trail: one row per audit event, partitioned by calendar month (UTC) of occurred_at. Written only by the audit-consumer.';");
        migrationBuilder.Sql($"COMMENT ON COLUMN {AuditSchema.Table}.client_ip IS 'The client address, or a CIDR block for bans on a range: query with client_ip >>= ''203.0.113.7'' to include blocks containing an address.';");
        migrationBuilder.Sql($"COMMENT ON COLUMN {AuditSchema.Table}.actor IS 'The gateway node id, or the admin API key name for admin.* events.';");
    }

    /// <remarks>
    /// Idempotent: rolling back twice, or after someone dropped the table by hand, succeeds. Dropping the parent drops
    /// every attached partition; a partition detached by hand (an archive) is left alone.
    /// </remarks>
    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql($"DROP TABLE IF EXISTS {AuditSchema.Table};");
    }
}
