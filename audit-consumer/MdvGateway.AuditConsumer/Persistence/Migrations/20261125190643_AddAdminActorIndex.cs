using Microsoft.EntityFrameworkCore.Migrations;

namespace MdvGateway.AuditConsumer.Persistence.Migrations;

/// <summary>
/// "Who did what" for the security team: admin API writes by key name and time, as a partial index so the far more
/// numerous rate-limit and ban rows do not pay for it. Building it locks writes to <c>audit_logs</c> while it runs
/// (a partitioned table cannot be indexed concurrently); the consumer's retries ride that out.
/// </summary>
public partial class AddAdminActorIndex : Migration
{
    protected override void Up(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql($"CREATE INDEX {AuditSchema.AdminActorIndex} ON {AuditSchema.Table} (actor, occurred_at) WHERE {AuditSchema.AdminActorFilter};");
    }

    /// <remarks>Idempotent, like every Down here.</remarks>
    protected override void Down(MigrationBuilder migrationBuilder)
    {
        migrationBuilder.Sql($"DROP INDEX IF EXISTS {AuditSchema.AdminActorIndex};");
    }
}
