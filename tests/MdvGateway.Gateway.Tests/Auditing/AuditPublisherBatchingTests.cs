using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Auditing;

/// <summary>How the publisher packs events into messages: by count, by size, by time; and what a failed message costs.</summary>
public sealed class AuditPublisherBatchingTests : IDisposable
{
    private static readonly TimeSpan Tick = TimeSpan.FromMilliseconds(10);

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.Zero));
    private readonly TempDirectory _directory = new();
    private readonly MetricsProbe _probe = new();
    private readonly List<(AuditPublisher Publisher, AuditSpool Spool)> _created = [];

    private sealed record Pipeline(AuditSpool Spool, AuditSink Sink, AuditPublisher Publisher, FakeAuditTransport Transport);

    private Pipeline Create(int maxEventsPerMessage = 500, FakeAuditTransport? transport = null)
    {
        var options = new AuditOptions { MaxEventsPerMessage = maxEventsPerMessage, QueueCapacity = 10_000, PublishTimeout = TimeSpan.FromSeconds(5) };
        transport ??= new FakeAuditTransport();
        var spool = new AuditSpool(SpoolDirectoryLock.Acquire(_directory.Path), options.MaxSpoolBytes, _probe.Metrics, NullLogger<AuditSpool>.Instance);
        var queue = new AuditQueue(options.QueueCapacity, spool, _probe.Metrics);
        var sink = new AuditSink(queue, _time);
        var publisher = new AuditPublisher(sink, queue, spool, transport, options, _time, _probe.Metrics, NullLogger<AuditPublisher>.Instance);
        _created.Add((publisher, spool));
        return new Pipeline(spool, sink, publisher, transport);
    }

    public void Dispose()
    {
        foreach (var (publisher, spool) in _created)
        {
            publisher.Dispose();
            spool.Dispose();
        }

        _probe.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task QueuedEvents_AreCutIntoMessagesOfAtMostMaxEventsPerMessage_InOneRound()
    {
        var p = Create(maxEventsPerMessage: 500);
        var events = Enumerable.Range(0, 1200).Select(_ => AuditTestEvents.Discrete()).ToList();
        events.ForEach(p.Sink.Record);

        // Queued before the publisher starts, so its first round sees all of them: more than a message's worth, no wait.
        await p.Publisher.StartAsync(CancellationToken.None);

        Assert.True(await AuditTestEvents.EventuallyAsync(() => p.Transport.Published.Count == events.Count));
        Assert.Equal([500, 500, 200], p.Transport.Messages.Select(m => m.Events.Count).Order().Reverse());
        Assert.All(p.Transport.Messages, m => Assert.False(m.Single));
        Assert.Equal(events.Select(e => e.EventId), p.Transport.Messages.SelectMany(m => m.Events).Select(e => e.EventId));
        Assert.Equal(3, _probe.Total("mdv.gateway.audit.messages", "message_type=AuditEventsRecorded"));
        Assert.Equal(1200, _probe.Total("mdv.gateway.audit.published", "source=queue"));
        await StopAsync(p);
    }

    [Fact]
    public async Task AFewEvents_WaitTheFillTime_ThenTravelTogether()
    {
        var p = Create(maxEventsPerMessage: 500);
        await p.Publisher.StartAsync(CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            p.Sink.Record(AuditTestEvents.Discrete());
        }

        // Four ticks: still short of the fill time, whenever the publisher noticed the events.
        for (var i = 0; i < 4; i++)
        {
            _time.Advance(Tick);
            await Task.Delay(50);
        }

        Assert.Empty(p.Transport.Messages);

        var advanced = 4 * Tick;
        Assert.True(await AuditTestEvents.EventuallyAsync(() => !p.Transport.Messages.IsEmpty, () =>
        {
            _time.Advance(Tick);
            advanced += Tick;
        }));
        Assert.True(advanced >= AuditPublisher.FillTime, $"published after {advanced.TotalMilliseconds} ms of the fill time");
        Assert.Equal(3, Assert.Single(p.Transport.Messages).Events.Count);
        await StopAsync(p);
    }

    [Fact]
    public async Task AFullMessage_DoesNotWaitTheFillTime()
    {
        var p = Create(maxEventsPerMessage: 20);
        await p.Publisher.StartAsync(CancellationToken.None);

        for (var i = 0; i < 20; i++)
        {
            p.Sink.Record(AuditTestEvents.Discrete());
        }

        // One look at the queue (a single poll interval) is all it takes, far less than the fill time.
        _time.Advance(Tick);
        Assert.True(await AuditTestEvents.EventuallyAsync(() => p.Transport.Published.Count == 20));
        Assert.Equal(20, Assert.Single(p.Transport.Messages).Events.Count);
        await StopAsync(p);
    }

    [Fact]
    public async Task LargeEvents_AreCutByTheirSerializedSize()
    {
        var p = Create(maxEventsPerMessage: 500);
        var padding = new string('x', 10_000);
        var events = Enumerable.Range(0, 100)
            .Select(_ => AuditTestEvents.Discrete() with { Details = AuditDetails.Build(w => w.WriteString("note", padding)) })
            .ToList();
        events.ForEach(p.Sink.Record);

        await p.Publisher.StartAsync(CancellationToken.None);
        Assert.True(await AuditTestEvents.EventuallyAsync(() => p.Transport.Published.Count == events.Count, () => _time.Advance(Tick)));

        Assert.True(p.Transport.Messages.Count >= 4, $"{p.Transport.Messages.Count} messages for 1 MB of events");
        Assert.All(p.Transport.Messages, m =>
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(new AuditEventsRecorded(Guid.NewGuid(), DateTimeOffset.UtcNow, m.Events), JsonSerializerOptions.Web);
            Assert.InRange(json.Length, 1, AuditMessageSplitter.MaxMessageBytes);
        });
        await StopAsync(p);
    }

    [Fact]
    public async Task MaxEventsPerMessageOne_PublishesEveryEventAsAnAuditEventRecorded_WithoutWaiting()
    {
        var p = Create(maxEventsPerMessage: 1);
        await p.Publisher.StartAsync(CancellationToken.None);

        for (var i = 0; i < 3; i++)
        {
            p.Sink.Record(AuditTestEvents.Discrete());
        }

        // The fake clock never moves: nothing waits for a message to fill.
        Assert.True(await AuditTestEvents.EventuallyAsync(() => p.Transport.Messages.Count == 3));
        Assert.All(p.Transport.Messages, m => Assert.True(m.Single && m.Events.Count == 1));
        Assert.Equal(3, _probe.Total("mdv.gateway.audit.messages", "message_type=AuditEventRecorded"));
        Assert.Equal(0, _probe.Total("mdv.gateway.audit.messages", "message_type=AuditEventsRecorded"));
        await StopAsync(p);
    }

    [Fact]
    public async Task AMessageThatFails_SpoolsItsEventsOneByOne_AndTheReplayPublishesThemInMessagesAgain()
    {
        var transport = new FakeAuditTransport();
        var p = Create(maxEventsPerMessage: 10, transport: transport);
        var events = Enumerable.Range(0, 30).Select(_ => AuditTestEvents.Discrete()).ToList();
        transport.Poison = events[15];
        events.ForEach(p.Sink.Record);

        await p.Publisher.StartAsync(CancellationToken.None);

        // Three messages of ten; the middle one is refused, so exactly its ten events are spooled.
        Assert.True(await AuditTestEvents.EventuallyAsync(() => _probe.Total("mdv.gateway.audit.spooled", "reason=broker_unavailable") == 10));
        Assert.Equal(20, transport.Published.Count);
        var segment = p.Spool.TakeOldest()!;
        Assert.Equal(events.Skip(10).Take(10).Select(e => e.EventId), p.Spool.Read(segment).Select(e => e.EventId));

        transport.Poison = null;
        Assert.True(await AuditTestEvents.EventuallyAsync(() => transport.Published.Count == 30, () => _time.Advance(TimeSpan.FromSeconds(1))));

        Assert.Equal(events.Select(e => e.EventId).Order(), transport.Published.Select(e => e.EventId).Order());
        // Read back from the spool: the same events (by id), not the same objects.
        var replayed = Assert.Single(transport.Messages, m => m.Events.Any(e => e.EventId == events[15].EventId));
        Assert.Equal(events.Skip(10).Take(10).Select(e => e.EventId), replayed.Events.Select(e => e.EventId));
        Assert.False(replayed.Single);
        Assert.Equal(10, _probe.Total("mdv.gateway.audit.published", "source=spool"));
        Assert.True(await AuditTestEvents.EventuallyAsync(() => _directory.Segments().Length == 0));
        await StopAsync(p);
    }

    [Fact]
    public async Task Stop_PublishesWhatIsQueued_InMessages_EvenWhileAMessageIsFilling()
    {
        var p = Create(maxEventsPerMessage: 500);
        await p.Publisher.StartAsync(CancellationToken.None);
        for (var i = 0; i < 7; i++)
        {
            p.Sink.Record(AuditTestEvents.Discrete());
        }

        // The clock never reaches the fill time: the stop cancels the wait and the events go out all the same.
        await StopAsync(p);

        Assert.Equal(7, Assert.Single(p.Transport.Messages).Events.Count);
        Assert.Equal(0, _probe.Total("mdv.gateway.audit.spooled"));
        Assert.False(p.Spool.HasPending);
    }

    private static async Task StopAsync(Pipeline pipeline)
    {
        await pipeline.Publisher.StopAsync(CancellationToken.None);
        pipeline.Publisher.Dispose();
    }
}
