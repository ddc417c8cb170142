using System.Net;
using MdvGateway.AuditConsumer.Consumers;
using MdvGateway.AuditConsumer.Persistence;
using MdvGateway.AuditConsumer.Tests.Infrastructure;
using Npgsql;

namespace MdvGateway.AuditConsumer.Tests.Consumers;

/// <summary>Nothing lost, nothing stored twice: the consumer process against a failing database and its own death.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class ConsumerResilienceTests(AuditInfrastructure infrastructure) : IAsyncLifetime
{
    public Task InitializeAsync() => infrastructure.PurgeAsync();

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Consumer_PostgresDownThenBack_StoresEveryEventOnceAndIsNotReadyMeanwhile()
    {
        await using var postgres = await SecondPostgres.StartAsync();
        await new SchemaMigrator(postgres.ConnectionString).MigrateAsync(null, CancellationToken.None);
        var args = infrastructure.ConsumerArgs(postgres.ConnectionString);
        await using var consumer = await ConsumerProcess.StartAsync(args);
        await consumer.WaitUntilReadyAsync();
        await using var publisher = await TestPublisher.StartAsync(infrastructure);
        var before = AuditEvents.Many(300).ToList();
        var during = AuditEvents.Many(700).ToList();
        // Fewer than Audit:PrefetchCount (100), so that the consumer holds every one of them while it retries.
        var duringStop = AuditEvents.Many(80).ToList();

        await publisher.PublishAsync(before);
        await WaitForRowsAsync(postgres.ConnectionString, before.Count, consumer);
        await postgres.StopServerAsync();
        await publisher.PublishAsync(during);

        await Eventually.TrueAsync(async () => (await consumer.ReadyAsync()).Status == HttpStatusCode.ServiceUnavailable,
            TimeSpan.FromSeconds(15), "readiness 503 while PostgreSQL is down");
        Assert.Contains("\"postgres\":\"unavailable", (await consumer.ReadyAsync()).Body, StringComparison.Ordinal);
        await Task.Delay(TimeSpan.FromSeconds(3)); // several failed attempts, none of which may dead-letter anything
        Assert.Equal(0u, await infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName));

        await postgres.StartServerAsync();
        await WaitForRowsAsync(postgres.ConnectionString, before.Count + during.Count, consumer, TimeSpan.FromSeconds(60));
        await consumer.WaitUntilReadyAsync();

        await AssertEachStoredOnceAsync(postgres.ConnectionString, [.. before, .. during]);
        Assert.Equal(0u, await infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName));
        Assert.Equal(0u, await infrastructure.MessageCountAsync(AuditTopology.QueueName));

        // Down again, and this time the consumer is stopped (SIGTERM) while it is retrying: the batch's messages go
        // back to the queue, not to the error queue, and the next consumer stores them once PostgreSQL is back.
        await postgres.StopServerAsync();
        await publisher.PublishAsync(duringStop);
        await Eventually.TrueAsync(async () => await infrastructure.MessageCountAsync(AuditTopology.QueueName) == 0,
            TimeSpan.FromSeconds(15), "the consumer holding the messages (unacknowledged) while it retries");
        await consumer.StopAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0u, await infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName));
        Assert.Equal((uint)duringStop.Count, await infrastructure.MessageCountAsync(AuditTopology.QueueName));
        await postgres.StartServerAsync();
        await using var next = await ConsumerProcess.StartAsync(args);
        await WaitForRowsAsync(postgres.ConnectionString, before.Count + during.Count + duringStop.Count, next, TimeSpan.FromSeconds(60));
        await AssertEachStoredOnceAsync(postgres.ConnectionString, [.. before, .. during, .. duringStop]);
        Assert.Equal(0u, await infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName));
    }

    [Fact]
    public async Task Consumer_KilledMidStreamAndRestarted_StoresEveryEventOnce()
    {
        await using var database = await AuditInfrastructure.CreateDatabaseAsync();
        // Small, slow batches so the kill lands while batches are in flight.
        string[] args = [.. infrastructure.ConsumerArgs(database.ConnectionString), "--Audit:BatchSize=50", "--Audit:ConcurrentBatches=4"];
        await using var publisher = await TestPublisher.StartAsync(infrastructure);
        var events = AuditEvents.Many(4000).ToList();
        long storedAtKill;
        await using (var first = await ConsumerProcess.StartAsync(args))
        {
            await first.WaitUntilReadyAsync();
            var publishing = publisher.PublishAsync(events);
            await WaitForRowsAsync(database.ConnectionString, 200, first);
            await first.KillAsync();
            storedAtKill = await CountAsync(database.ConnectionString);
            await publishing;
        }

        await using var second = await ConsumerProcess.StartAsync(args);
        await WaitForRowsAsync(database.ConnectionString, events.Count, second, TimeSpan.FromSeconds(60));

        Assert.InRange(storedAtKill, 1, events.Count - 1);
        await AssertEachStoredOnceAsync(database.ConnectionString, events);
        Assert.Equal(0u, await infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName));
    }

    private static async Task AssertEachStoredOnceAsync(string connectionString, List<Contracts.AuditEventRecorded> events)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT event_id, count(*) FROM audit_logs GROUP BY event_id", connection);
        var stored = new Dictionary<Guid, long>();
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                stored[reader.GetGuid(0)] = reader.GetInt64(1);
            }
        }

        Assert.Equal(events.Count, stored.Count);
        Assert.All(events, e => Assert.Equal(1, stored.GetValueOrDefault(e.EventId)));
    }

    private static async Task<long> CountAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("SELECT count(*) FROM audit_logs", connection);
        return (long)(await command.ExecuteScalarAsync())!;
    }

    private static Task WaitForRowsAsync(string connectionString, long count, ConsumerProcess consumer, TimeSpan? timeout = null)
        => Eventually.TrueAsync(async () =>
            {
                try
                {
                    return await CountAsync(connectionString) >= count;
                }
                catch (NpgsqlException)
                {
                    return false;
                }
            },
            timeout ?? TimeSpan.FromSeconds(30), $"{count} rows in audit_logs",
            async () => $"{await CountAsync(connectionString)} rows; consumer output:\n{consumer.Output}");
}
