using System.Diagnostics.Metrics;
using MdvGateway.AuditConsumer.Consumers;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.AuditConsumer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MdvGateway.AuditConsumer.Tests.Consumers;

/// <summary>Messages carrying many events, on the real broker and database, beside the single-event ones.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class AuditEventsRecordedConsumerTests(AuditInfrastructure infrastructure) : ConsumerTestContext(infrastructure)
{
    [Fact]
    public async Task Consume_OneMessageOfManyEvents_StoresEachAsItsOwnRow_InOneWrite()
    {
        using var batchSizes = new MetricCollector<int>(Consumer.Services.GetRequiredService<IMeterFactory>(), AuditMetrics.MeterName, "mdv.audit.batch.size");
        var events = AuditEvents.Many(500).ToList();

        await Publisher.PublishBatchAsync(events);
        await WaitForRowsAsync(500);

        Assert.Equal(500L, await Database.ScalarAsync<long>("SELECT count(DISTINCT event_id) FROM audit_logs"));
        Assert.Equal(events.Sum(e => e.Details.GetProperty("count").GetInt64()),
            await Database.ScalarAsync<decimal>("SELECT sum((details->>'count')::bigint) FROM audit_logs"));
        var sample = events[123];
        Assert.Equal(sample.ClientIp, await Database.ScalarAsync<string>("SELECT abbrev(client_ip) FROM audit_logs WHERE event_id = @id", ("id", sample.EventId)));
        Assert.Equal([500], batchSizes.GetMeasurementSnapshot().Select(m => m.Value));
        await Eventually.TrueAsync(async () => await Infrastructure.MessageCountAsync(AuditTopology.QueueName) == 0,
            TimeSpan.FromSeconds(10), "the message acknowledged");
    }

    [Fact]
    public async Task Consume_TheSameMessageRedelivered_AndOneThatOverlapsIt_StoreEveryEventExactlyOnce()
    {
        using var duplicates = Collector("mdv.audit.events.duplicates");
        using var stored = Collector("mdv.audit.events.stored");
        var first = AuditEvents.Many(200).ToList();
        var later = AuditEvents.Many(50).ToList();

        await Publisher.PublishBatchAsync(first);
        await WaitForRowsAsync(200);
        // What a redelivery looks like to the consumer (the broker hands the same events over again), then a message
        // that repeats half of them next to new ones (a publish that timed out on the gateway and was spooled).
        await Publisher.PublishBatchAsync(first);
        await Publisher.PublishBatchAsync([.. first[100..], .. later]);
        await WaitForRowsAsync(250);
        await Eventually.TrueAsync(() => Task.FromResult(Sum(duplicates) == 300), TimeSpan.FromSeconds(10), "300 duplicates counted",
            () => Task.FromResult($"{Sum(duplicates)} duplicates"));

        Assert.Equal(250L, await Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
        Assert.Equal(250L, await Database.ScalarAsync<long>("SELECT count(DISTINCT event_id) FROM audit_logs"));
        Assert.Equal(250, Sum(stored));
    }

    [Fact]
    public async Task Consume_SingleAndBatchedMessagesOnTheSameQueue_AllLand()
    {
        var singles = AuditEvents.Many(120).ToList();
        var batched = AuditEvents.Many(300).ToList();

        await Task.WhenAll(Publisher.PublishAsync(singles), Publisher.PublishBatchAsync(batched[..150]), Publisher.PublishBatchAsync(batched[150..]));
        await WaitForRowsAsync(420);

        Assert.Equal(420L, await Database.ScalarAsync<long>("SELECT count(DISTINCT event_id) FROM audit_logs"));
        Assert.Equal(0u, await Infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName));
    }

    [Fact]
    public async Task Consume_AMessageWithUnstorableEvents_StoresTheOthers_AndGoesWholeToTheErrorQueue()
    {
        using var rejected = Collector("mdv.audit.events.rejected");
        var good = AuditEvents.Many(30).ToList();
        var badType = good[0] with { EventId = Guid.NewGuid(), EventType = "Rate Limit!" };
        var badAddress = good[0] with { EventId = Guid.NewGuid(), ClientIp = "10.1" };

        await Publisher.PublishBatchAsync([.. good[..10], badType, .. good[10..], badAddress]);

        await WaitForRowsAsync(30);
        await Eventually.TrueAsync(async () => await Infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName) == 1,
            TimeSpan.FromSeconds(20), "the message in the error queue");
        var fault = Assert.Single(await Infrastructure.ErrorQueueFaultsAsync());
        Assert.Contains(badType.EventId.ToString(), fault, StringComparison.Ordinal);
        Assert.Contains(badAddress.EventId.ToString(), fault, StringComparison.Ordinal);
        Assert.DoesNotContain(good[3].EventId.ToString(), fault, StringComparison.Ordinal);
        Assert.Equal(30L, await Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
        Assert.Equal(0u, await Infrastructure.MessageCountAsync(AuditTopology.QueueName));
        Assert.Equal(["invalid_client_ip", "invalid_event_type"], rejected.GetMeasurementSnapshot().Select(m => (string)m.Tags["reason"]!).Order());
    }

    [Fact]
    public async Task Consume_AMessageWithoutEvents_IsAcknowledgedAndStoresNothing()
    {
        await Publisher.PublishBatchAsync([]);
        var marker = AuditEvents.Many(1).ToList();
        await Publisher.PublishBatchAsync(marker);

        await WaitForRowsAsync(1);
        await Eventually.TrueAsync(async () => await Infrastructure.MessageCountAsync(AuditTopology.QueueName) == 0,
            TimeSpan.FromSeconds(10), "both messages acknowledged");
        Assert.Equal(1L, await Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
        Assert.Equal(0u, await Infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName));
    }
}
