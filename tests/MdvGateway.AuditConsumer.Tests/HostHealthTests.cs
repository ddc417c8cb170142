using System.Net;
using MdvGateway.AuditConsumer.Tests.Infrastructure;

namespace MdvGateway.AuditConsumer.Tests;

/// <summary>The consumer process itself, started the way operators start it, against the real PostgreSQL and RabbitMQ.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class HostHealthTests(AuditInfrastructure infrastructure)
{
    [Fact]
    public async Task Ready_WithReachablePostgresMigratedSchemaAndBroker_Is200()
    {
        await using var database = await AuditInfrastructure.CreateDatabaseAsync();
        await using var consumer = await ConsumerProcess.StartAsync(infrastructure.ConsumerArgs(database.ConnectionString));

        await consumer.WaitUntilReadyAsync();
        var (_, body) = await consumer.ReadyAsync();

        Assert.Contains("\"status\":\"ready\"", body, StringComparison.Ordinal);
        Assert.Contains("\"postgres\":\"connected\"", body, StringComparison.Ordinal);
        Assert.Contains("\"rabbitmq\":\"connected\"", body, StringComparison.Ordinal);
        Assert.Contains("\"schema\":\"up to date", body, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_WithUnreachablePostgres_Is503ButLiveIs200()
    {
        // Port 9 (discard) has no PostgreSQL behind it on any test machine.
        await using var consumer = await ConsumerProcess.StartAsync(
            infrastructure.ConsumerArgs("Host=127.0.0.1;Port=9;Username=mdv;Password=mdv;Database=mdv_audit;Timeout=2"));

        var (status, body) = await consumer.ReadyAsync();
        using var live = await consumer.Client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("\"postgres\":\"unavailable", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task Ready_WithoutMigrations_Is503NamingThemAndTheCommand()
    {
        await using var database = await AuditInfrastructure.CreateDatabaseAsync(migrated: false);
        await using var consumer = await ConsumerProcess.StartAsync(infrastructure.ConsumerArgs(database.ConnectionString));

        var (status, body) = await consumer.ReadyAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("migrations not applied: 20261125190606_CreateAuditLogs, 20261125190643_AddAdminActorIndex", body, StringComparison.Ordinal);
        Assert.Contains("migrate", body, StringComparison.Ordinal);
        Assert.False(consumer.HasExited, "a consumer without its schema waits and says so; it does not crash-loop");
    }

    [Fact]
    public async Task Start_WithMigrateOnStart_AppliesMigrationsAndBecomesReady()
    {
        await using var database = await AuditInfrastructure.CreateDatabaseAsync(migrated: false);
        await using var consumer = await ConsumerProcess.StartAsync(infrastructure.ConsumerArgs(database.ConnectionString, "--Audit:MigrateOnStart=true"));

        await consumer.WaitUntilReadyAsync();

        Assert.Equal(2L, await database.ScalarAsync<long>("SELECT count(*) FROM \"__EFMigrationsHistory\""));
        // Partition maintenance runs once the start-up migration is done (readiness does not wait for it: the
        // default partition takes every event meanwhile).
        var currentMonth = $"audit_logs_y{DateTime.UtcNow:yyyy}m{DateTime.UtcNow:MM}";
        await Eventually.TrueAsync(async () => await database.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname = @name", ("name", currentMonth)) == 1,
            TimeSpan.FromSeconds(10), $"partition {currentMonth} created at start");
    }

    [Fact]
    public async Task Metrics_AfterStart_ServesPrometheusTextWithTheConsumersInstruments()
    {
        await using var database = await AuditInfrastructure.CreateDatabaseAsync();
        await using var consumer = await ConsumerProcess.StartAsync(infrastructure.ConsumerArgs(database.ConnectionString));
        await consumer.WaitUntilReadyAsync();
        await using (var publisher = await TestPublisher.StartAsync(infrastructure))
        {
            await publisher.PublishAsync(AuditEvents.Many(3));
        }

        await Eventually.TrueAsync(async () =>
        {
            var text = await consumer.Client.GetStringAsync("/metrics");
            return text.Contains("mdv_audit_events_stored_total", StringComparison.Ordinal)
                   && text.Contains("mdv_audit_batch_duration_seconds_bucket", StringComparison.Ordinal)
                   && text.Contains("mdv_audit_partitions_created_total", StringComparison.Ordinal);
        }, TimeSpan.FromSeconds(20), "the consumer's instruments on /metrics", () => consumer.Client.GetStringAsync("/metrics"));
    }

    [Fact]
    public async Task Start_WithInvalidConfiguration_ExitsWith2NamingEveryBadKey()
    {
        var (exitCode, _, stderr) = await ConsumerProcess.RunToExitAsync(
            "--ConnectionStrings:AuditDb=Host=127.0.0.1;Databse=x",
            "--RabbitMq:Hots=broker",
            "--RabbitMq:Port=70000",
            "--Audit:RetentionDays=0",
            "--Audit:BatchTimeLimit=soon");

        Assert.Equal(2, exitCode);
        Assert.Contains("Invalid audit-consumer configuration (5 problems)", stderr, StringComparison.Ordinal);
        Assert.Contains("ConnectionStrings:AuditDb", stderr, StringComparison.Ordinal);
        Assert.Contains("RabbitMq:Hots: unknown key 'Hots'", stderr, StringComparison.Ordinal);
        Assert.Contains("RabbitMq:Port: '70000' is not a valid port number", stderr, StringComparison.Ordinal);
        Assert.Contains("Audit:RetentionDays: 0 must be between 1 and 36500", stderr, StringComparison.Ordinal);
        Assert.Contains("Audit:BatchTimeLimit: 'soon' is not a valid duration", stderr, StringComparison.Ordinal);
    }
}
