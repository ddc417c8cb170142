using MdvGateway.AuditConsumer.Consumers;
using MdvGateway.AuditConsumer.Tests.Infrastructure;
using MdvGateway.Contracts;

namespace MdvGateway.AuditConsumer.Tests.Diagnostics;

/// <summary>The consumer process's <c>/metrics</c> after real traffic through RabbitMQ into PostgreSQL: exact counts.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class ConsumerMetricsTests(AuditInfrastructure infrastructure)
{
    private const string Received = "mdv_audit_events_received_total";
    private const string Stored = "mdv_audit_events_stored_total";
    private const string Duplicates = "mdv_audit_events_duplicates_total";

    [Fact]
    public async Task Metrics_NewEventsThenARedelivery_CountReceivedStoredDuplicatesBatchesAndLagExactly_AndTheQueueDrained()
    {
        await infrastructure.PurgeAsync();
        await using var database = await AuditInfrastructure.CreateDatabaseAsync();
        // One batch of exactly five: it is written when the fifth event arrives, long before the time limit.
        await using var consumer = await ConsumerProcess.StartAsync(infrastructure.ConsumerArgs(database.ConnectionString,
            "--Audit:BatchSize=5", "--Audit:BatchTimeLimit=00:00:30", "--Audit:ConcurrentBatches=1"));
        await consumer.WaitUntilReadyAsync();
        await using var publisher = await TestPublisher.StartAsync(infrastructure);
        var first = AuditEvents.Many(5).ToList();

        await publisher.PublishAsync(first);
        await WaitForAsync(consumer, s => s.Sum(Stored) == 5, "5 events stored");

        // Three of them again (as a gateway republishes after a publish timed out, or replays its spool) and two new.
        var second = AuditEvents.Many(2).ToList();
        await publisher.PublishAsync([.. first.Take(3), .. second]);
        var metrics = await WaitForAsync(consumer, s => s.Sum(Duplicates) == 3 && s.Sum(Stored) == 7, "3 duplicates and 7 events stored");

        Assert.Equal(7L, await database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
        Assert.Equal(10, metrics.Sum(Received, ("event_type", AuditEventTypes.RateLimitExceeded)));
        Assert.Equal(10, metrics.Sum(Received));
        Assert.Equal(7, metrics.Sum(Stored));
        Assert.Equal(3, metrics.Sum(Duplicates));
        Assert.Equal(2, metrics.Sum("mdv_audit_batch_size_count"));
        Assert.Equal(10, metrics.Sum("mdv_audit_batch_size_sum"));
        Assert.Equal(10, metrics.Sum("mdv_audit_events_lag_seconds_count"));
        Assert.Null(metrics.Sum("mdv_audit_batch_failures_total"));
        Assert.Null(metrics.Sum("mdv_audit_events_rejected_total"));

        // The queue gauges, read from the broker: drained, and this consumer attached.
        metrics = await WaitForAsync(consumer, s => s.Sum("mdv_audit_queue_messages", ("queue", AuditTopology.QueueName)) == 0
                                                    && s.Sum("mdv_audit_queue_consumers", ("queue", AuditTopology.QueueName)) == 1, "the queue gauges");
        Assert.Equal(0, metrics.Sum("mdv_audit_queue_messages", ("queue", AuditTopology.ErrorQueueName)));
    }

    private static async Task<MetricsScrape> WaitForAsync(ConsumerProcess consumer, Func<MetricsScrape, bool> done, string what)
    {
        MetricsScrape? last = null;
        await Eventually.TrueAsync(async () => done(last = await MetricsScrape.ReadAsync(consumer.Client)), TimeSpan.FromSeconds(30), what,
            () => Task.FromResult((last?.Text ?? "") + "\n" + consumer.Output));
        return last!;
    }
}
