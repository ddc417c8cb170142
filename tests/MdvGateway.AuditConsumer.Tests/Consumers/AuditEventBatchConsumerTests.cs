using System.Text.Json;
using MdvGateway.AuditConsumer.Consumers;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.AuditConsumer.Tests.Infrastructure;
using MdvGateway.Contracts;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using System.Diagnostics.Metrics;
using RabbitMQ.Client;

namespace MdvGateway.AuditConsumer.Tests.Consumers;

/// <summary>The consumer on the real broker and database: what a published event becomes.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class AuditEventBatchConsumerTests(AuditInfrastructure infrastructure) : ConsumerTestContext(infrastructure)
{
    [Fact]
    public async Task Consume_EachEventType_StoresOneRowWithItsColumns()
    {
        var at = AuditEvents.Now();
        var events = new[]
        {
            new AuditEventRecorded(Guid.NewGuid(), at, AuditEventTypes.RateLimitExceeded, "203.0.113.7", "api", "per-ip", "gw-1",
                AuditEvents.Json("""{"count":12,"firstAt":"2026-01-01T00:00:00Z","lastAt":"2026-01-01T00:00:01Z","limit":100,"window":1}""")),
            new AuditEventRecorded(Guid.NewGuid(), at.AddSeconds(1), AuditEventTypes.BanIssued, "203.0.113.0/24", "login", "auth", "gw-2",
                AuditEvents.Json("""{"level":2,"duration":600,"expiresAt":"2026-01-01T00:10:00Z","origin":"auto","strikes":10,"reason":"too many 429s"}""")),
            new AuditEventRecorded(Guid.NewGuid(), at.AddSeconds(2), AuditEventTypes.BanLifted, "2001:db8::/64", null, null, "secops",
                AuditEvents.Json("""{"origin":"manual","resetLevel":true}""")),
            new AuditEventRecorded(Guid.NewGuid(), at.AddSeconds(3), AuditEventTypes.BanBlocked, "2001:db8::1", "api", null, "gw-1",
                AuditEvents.Json("""{"count":40,"firstAt":"2026-01-01T00:00:00Z","lastAt":"2026-01-01T00:00:01Z"}""")),
            new AuditEventRecorded(Guid.NewGuid(), at.AddSeconds(4), "admin.ban.deleted", "198.51.100.9", null, null, "secops",
                AuditEvents.Json("""{"method":"DELETE","path":"/admin/bans/198.51.100.9","status":204}""")),
            new AuditEventRecorded(Guid.NewGuid(), at.AddSeconds(5), AuditEventTypes.ConfigReloaded, null, null, null, "gw-1",
                AuditEvents.Json("""{"changed":["RateLimiting","IpBans"]}""")),
            new AuditEventRecorded(Guid.NewGuid(), at.AddSeconds(6), AuditEventTypes.ConfigRejected, null, null, null, "gw-1",
                AuditEvents.Json("""{"problems":["RateLimiting:Policies:auth:OnBreach: unknown key"]}""")),
            new AuditEventRecorded(Guid.NewGuid(), at.AddSeconds(7), AuditEventTypes.AbuseRefused, "192.0.2.55", null, null, "gw-3",
                AuditEvents.Json("""{"reason":"admin-authentication","count":7}""")),
        };

        await Publisher.PublishAsync(events);
        await WaitForRowsAsync(events.Length);

        foreach (var sent in events)
        {
            var rows = await Database.RowsAsync("""
                SELECT event_type, occurred_at, abbrev(client_ip), route_id, policy, actor, details::text, recorded_at
                FROM audit_logs WHERE event_id = @id
                """, ("id", sent.EventId));
            var row = Assert.Single(rows);
            Assert.Equal(sent.EventType, row[0]);
            Assert.Equal(sent.OccurredAt, new DateTimeOffset((DateTime)row[1]!));
            Assert.Equal(sent.ClientIp, row[2]);
            Assert.Equal(sent.RouteId, row[3]);
            Assert.Equal(sent.Policy, row[4]);
            Assert.Equal(sent.Actor, row[5]);
            Assert.True(JsonElement.DeepEquals(sent.Details, AuditEvents.Json((string)row[6]!)), $"details of {sent.EventType}: {row[6]}");
            Assert.NotNull(row[7]);
        }
    }

    [Fact]
    public async Task Consume_SameEventTwice_StoresItOnceAndCountsTheDuplicate()
    {
        using var duplicates = Collector("mdv.audit.events.duplicates");
        var once = AuditEvents.RateLimitExceeded();
        var other = AuditEvents.RateLimitExceeded();

        await Publisher.PublishAsync(once);
        await WaitForRowsAsync(1);
        await Publisher.PublishAsync(once, other);
        await WaitForRowsAsync(2);

        Assert.Equal(1L, await Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE event_id = @id", ("id", once.EventId)));
        await Eventually.TrueAsync(() => Task.FromResult(Sum(duplicates) == 1), TimeSpan.FromSeconds(5), "one duplicate counted");
    }

    [Fact]
    public async Task Consume_FiveThousandEvents_StoresEveryOneOnceInBatches()
    {
        using var batchSizes = new MetricCollector<int>(Consumer.Services.GetRequiredService<IMeterFactory>(), AuditMetrics.MeterName, "mdv.audit.batch.size");
        var events = AuditEvents.Many(5000).ToList();

        await Publisher.PublishAsync(events);
        await WaitForRowsAsync(events.Count, TimeSpan.FromSeconds(60));

        Assert.Equal(5000L, await Database.ScalarAsync<long>("SELECT count(DISTINCT event_id) FROM audit_logs"));
        Assert.Equal(events.Sum(e => e.Details.GetProperty("count").GetInt64()),
            await Database.ScalarAsync<decimal>("SELECT sum((details->>'count')::bigint) FROM audit_logs WHERE event_type = 'rate_limit.exceeded'"));
        Assert.True(batchSizes.GetMeasurementSnapshot().Max(m => m.Value) > 1, "events are written in batches, not one by one");
        Assert.Equal(0u, await Infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName));
    }

    [Fact]
    public async Task Consume_UnstorableEvents_GoToTheErrorQueueWhileTheRestOfTheBatchIsStored()
    {
        using var rejected = Collector("mdv.audit.events.rejected");
        var good = AuditEvents.Many(20).ToList();
        var notAnObject = good[0] with { EventId = Guid.NewGuid(), Details = AuditEvents.Json("[1,2]") };
        var badType = good[0] with { EventId = Guid.NewGuid(), EventType = "Rate Limit!" };
        var tooOld = good[0] with { EventId = Guid.NewGuid(), OccurredAt = new DateTimeOffset(1969, 12, 31, 0, 0, 0, TimeSpan.Zero) };
        var badAddress = good[0] with { EventId = Guid.NewGuid(), ClientIp = "10.1" };

        await Publisher.PublishAsync([.. good[..10], notAnObject, badType, .. good[10..], tooOld, badAddress]);

        await WaitForRowsAsync(20);
        await Eventually.TrueAsync(async () => await Infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName) == 4,
            TimeSpan.FromSeconds(20), "4 messages in the error queue");
        var faults = await Infrastructure.ErrorQueueFaultsAsync();
        Assert.Contains(faults, f => f.Contains(notAnObject.EventId.ToString(), StringComparison.Ordinal) && f.Contains("not a JSON object", StringComparison.Ordinal));
        Assert.Contains(faults, f => f.Contains(badType.EventId.ToString(), StringComparison.Ordinal));
        Assert.Contains(faults, f => f.Contains(tooOld.EventId.ToString(), StringComparison.Ordinal));
        Assert.Contains(faults, f => f.Contains(badAddress.EventId.ToString(), StringComparison.Ordinal));
        Assert.Equal(20L, await Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
        Assert.Equal(0u, await Infrastructure.MessageCountAsync(AuditTopology.QueueName));
        var reasons = rejected.GetMeasurementSnapshot().Select(m => (string)m.Tags["reason"]!).Order().ToList();
        Assert.Equal(["invalid_client_ip", "invalid_details", "invalid_event_type", "invalid_occurred_at"], reasons);
    }

    [Fact]
    public async Task Consume_MessageThatIsNotAnAuditEvent_GoesToTheErrorQueueAndIsCounted()
    {
        using var unreadable = Collector("mdv.audit.messages.unreadable");
        await using (var connection = await Infrastructure.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            var properties = new BasicProperties { ContentType = "application/vnd.masstransit+json", Persistent = true };
            await channel.BasicPublishAsync(AuditTopology.MessageExchange, "", mandatory: false, properties, "{ this is not json"u8.ToArray());
        }

        await Eventually.TrueAsync(async () => await Infrastructure.MessageCountAsync(AuditTopology.ErrorQueueName) == 1,
            TimeSpan.FromSeconds(20), "the unreadable message in the error queue");
        await Eventually.TrueAsync(() => Task.FromResult(Sum(unreadable) == 1), TimeSpan.FromSeconds(5), "the unreadable message counted");
    }

    [Fact]
    public async Task Consume_WhenThePublisherAlsoBindsTheQueueDirectly_DeliversEachEventOnce()
    {
        // The gateway may declare exchange → queue directly, next to MassTransit's exchange → exchange → queue:
        // RabbitMQ still puts one copy of a message in a queue, however many paths lead there.
        using var duplicates = Collector("mdv.audit.events.duplicates");
        await using var connection = await Infrastructure.ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        await channel.QueueBindAsync(AuditTopology.QueueName, AuditTopology.MessageExchange, "");
        try
        {
            await Publisher.PublishAsync(AuditEvents.Many(50));
            await WaitForRowsAsync(50);
            await Task.Delay(500);

            Assert.Equal(0, Sum(duplicates));
            Assert.Equal(50L, await Database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
        }
        finally
        {
            await channel.QueueUnbindAsync(AuditTopology.QueueName, AuditTopology.MessageExchange, "");
        }
    }
}
