using System.Diagnostics.Metrics;
using MdvGateway.AuditConsumer.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>
/// A test class's own consumer on the real broker and a fresh database, with a publisher: the queue is purged first,
/// and everything is disposed after each test.
/// </summary>
public abstract class ConsumerTestContext(AuditInfrastructure infrastructure) : IAsyncLifetime
{
    protected AuditInfrastructure Infrastructure { get; } = infrastructure;

    protected TestDatabase Database { get; private set; } = null!;

    protected InProcessConsumer Consumer { get; private set; } = null!;

    protected TestPublisher Publisher { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Infrastructure.PurgeAsync();
        Database = await AuditInfrastructure.CreateDatabaseAsync();
        Consumer = await InProcessConsumer.StartAsync(Infrastructure.ConsumerArgs(Database.ConnectionString));
        Publisher = await TestPublisher.StartAsync(Infrastructure);
    }

    public async Task DisposeAsync()
    {
        await Publisher.DisposeAsync();
        await Consumer.DisposeAsync();
        await Database.DisposeAsync();
    }

    /// <summary>Collects one of the consumer's counters.</summary>
    protected MetricCollector<long> Collector(string instrument)
        => new(Consumer.Services.GetRequiredService<IMeterFactory>(), AuditMetrics.MeterName, instrument);

    protected static long Sum(MetricCollector<long> collector) => collector.GetMeasurementSnapshot().Sum(m => m.Value);

    /// <summary>Waits until <c>audit_logs</c> holds at least <paramref name="count"/> rows.</summary>
    protected Task WaitForRowsAsync(long count, TimeSpan? timeout = null)
        => Eventually.TrueAsync(async () => await Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs") >= count,
            timeout ?? TimeSpan.FromSeconds(20), $"{count} rows in audit_logs",
            async () => $"{await Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs")} rows");
}
