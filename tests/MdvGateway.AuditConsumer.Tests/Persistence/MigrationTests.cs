using MdvGateway.AuditConsumer.Persistence;
using MdvGateway.AuditConsumer.Tests.Infrastructure;
using Npgsql;

namespace MdvGateway.AuditConsumer.Tests.Persistence;

/// <summary>The <c>migrate</c> verb against real, throwaway databases.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class MigrationTests
{
    private const string Initial = "CreateAuditLogs";

    [Fact]
    public async Task Migrate_UpThenDownToZeroThenUp_LeavesNothingThenRecreatesEverything()
    {
        await using var database = await AuditInfrastructure.CreateDatabaseAsync(migrated: false);

        var up = await RunAsync(database, "migrate");
        Assert.Equal(0, up.ExitCode);
        Assert.Contains("2 of 2 applied", up.Output, StringComparison.Ordinal);
        var migrated = await SchemaDump.OfAsync(database.ConnectionString);
        Assert.Contains("audit_logs_default", migrated, StringComparison.Ordinal);
        Assert.Contains("RANGE (occurred_at)", migrated, StringComparison.Ordinal);
        await database.ExecuteAsync("INSERT INTO audit_logs (event_id, event_type, occurred_at, details) VALUES (gen_random_uuid(), 'ban.issued', now(), '{}')");

        var down = await RunAsync(database, "migrate", "--to", "0");
        Assert.Equal(0, down.ExitCode);
        Assert.Equal(0L, await SchemaDump.AuditRelationCountAsync(database));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM \"__EFMigrationsHistory\""));

        var again = await RunAsync(database, "migrate");
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(migrated, await SchemaDump.OfAsync(database.ConnectionString));
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
    }

    [Fact]
    public async Task Migrate_ToNamedMigration_RollsBackOnlyLaterOnesAndKeepsTheRows()
    {
        await using var database = await AuditInfrastructure.CreateDatabaseAsync();
        await database.ExecuteAsync("INSERT INTO audit_logs (event_id, event_type, occurred_at, actor, details) VALUES (gen_random_uuid(), 'admin.ban.created', now(), 'secops', '{}')");

        var down = await RunAsync(database, "migrate", "--to", Initial);

        Assert.Equal(0, down.ExitCode);
        Assert.Contains("rolled back 20261125190643_AddAdminActorIndex", down.Output, StringComparison.Ordinal);
        Assert.Equal(0L, await database.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_audit_logs_admin_actor_occurred_at'"));
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
        Assert.Equal(["20261125190606_CreateAuditLogs"], await new SchemaMigrator(database.ConnectionString).AppliedAsync(CancellationToken.None));

        Assert.Equal(0, (await RunAsync(database, "migrate")).ExitCode);
        Assert.Equal(1L, await database.ScalarAsync<long>("SELECT count(*) FROM pg_indexes WHERE indexname = 'ix_audit_logs_admin_actor_occurred_at'"));
    }

    [Fact]
    public async Task MigrateDown_WhenTheTableWasAlreadyDroppedByHand_StillSucceeds()
    {
        // The seed incident: a rollback that failed on a missing table. Down must tolerate it.
        await using var database = await AuditInfrastructure.CreateDatabaseAsync();
        await database.ExecuteAsync("DROP TABLE audit_logs");

        var down = await RunAsync(database, "migrate", "--to", "0");

        Assert.Equal(0, down.ExitCode);
        Assert.Empty(await new SchemaMigrator(database.ConnectionString).AppliedAsync(CancellationToken.None));
    }

    [Fact]
    public async Task Script_AppliedWithPsqlToAFreshDatabase_YieldsTheSameSchemaAsMigrate()
    {
        await using var migrated = await AuditInfrastructure.CreateDatabaseAsync();
        await using var scripted = await AuditInfrastructure.CreateDatabaseAsync(migrated: false);
        // Pointed at a port with no server: --script must not need a database.
        var script = await ConsumerProcess.RunToExitAsync("migrate", "--script", "--ConnectionStrings:AuditDb=Host=127.0.0.1;Port=9;Database=none;Username=x;Password=y;Timeout=1");
        Assert.Equal(0, script.ExitCode);
        var file = Path.Combine(Path.GetTempPath(), $"audit-{Guid.NewGuid():N}.sql");
        Assert.Empty(script.StdErr);
        await File.WriteAllTextAsync(file, script.StdOut);
        try
        {
            var target = new NpgsqlConnectionStringBuilder(scripted.ConnectionString);
            await ShellCommand.RunAsync("/usr/bin/psql",
                ["-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", target.Host!, "-p", target.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "-U", target.Username!, "-d", target.Database!, "-f", file],
                new Dictionary<string, string> { ["PGPASSWORD"] = target.Password! });
        }
        finally
        {
            File.Delete(file);
        }

        var expected = await SchemaDump.OfAsync(migrated.ConnectionString);
        Assert.Contains("ix_audit_logs_admin_actor_occurred_at", expected, StringComparison.Ordinal);
        Assert.Equal(expected, await SchemaDump.OfAsync(scripted.ConnectionString));
    }

    [Fact]
    public async Task Script_FromLatestToInitial_IsTheRollbackSql()
    {
        var script = await ConsumerProcess.RunToExitAsync("migrate", "--script", "--from", "AddAdminActorIndex", "--to", Initial);

        Assert.Equal(0, script.ExitCode);
        Assert.Contains("DROP INDEX IF EXISTS ix_audit_logs_admin_actor_occurred_at", script.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("DROP TABLE", script.StdOut, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_UnknownMigrationOrOption_ExitsWith2AndNamesTheValidOnes()
    {
        await using var database = await AuditInfrastructure.CreateDatabaseAsync();

        var unknown = await ConsumerProcess.RunToExitAsync("migrate", "--to", "CreateAuditLog", $"--ConnectionStrings:AuditDb={database.ConnectionString}");
        var typo = await ConsumerProcess.RunToExitAsync("migrate", "--too", "0", $"--ConnectionStrings:AuditDb={database.ConnectionString}");

        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("unknown migration 'CreateAuditLog'", unknown.StdErr, StringComparison.Ordinal);
        Assert.Contains("CreateAuditLogs", unknown.StdErr, StringComparison.Ordinal);
        Assert.Contains("AddAdminActorIndex", unknown.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, typo.ExitCode);
        Assert.Contains("unknown option '--too'", typo.StdErr, StringComparison.Ordinal);
        Assert.Equal(2, (await new SchemaMigrator(database.ConnectionString).AppliedAsync(CancellationToken.None)).Count);
    }

    [Fact]
    public async Task Migrate_DatabaseUnreachable_ExitsWith1AndSaysWhere()
    {
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await MigrateCommand.RunAsync(["migrate", "--ConnectionStrings:AuditDb=Host=127.0.0.1;Port=9;Database=audit;Username=x;Password=secret;Timeout=1"], output, error);

        Assert.Equal(MigrateCommand.Failed, exit);
        Assert.Contains("127.0.0.1:9", error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain("secret", error.ToString() + output, StringComparison.Ordinal);
    }

    private static async Task<(int ExitCode, string Output)> RunAsync(TestDatabase database, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await MigrateCommand.RunAsync([.. args, $"--ConnectionStrings:AuditDb={database.ConnectionString}"], output, error);
        return (exit, output + error.ToString());
    }
}
