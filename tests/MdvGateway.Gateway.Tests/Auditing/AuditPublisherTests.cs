using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class AuditPublisherTests : IDisposable
{
    private static readonly RateLimit Auth = new("auth", 5, TimeSpan.FromMinutes(1));

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.Zero));
    private readonly TempDirectory _directory = new();
    private readonly MetricsProbe _probe = new();
    private readonly AuditOptions _options = new() { AggregationInterval = TimeSpan.FromSeconds(1), PublishTimeout = TimeSpan.FromSeconds(5), QueueCapacity = 1000 };
    private readonly List<Pipeline> _pipelines = [];

    private sealed record Pipeline(AuditSpool Spool, AuditQueue Queue, AuditSink Sink, AuditPublisher Publisher, FakeAuditTransport Transport);

    private Pipeline Create(FakeAuditTransport? transport = null, AuditOptions? options = null)
    {
        transport ??= new FakeAuditTransport();
        options ??= _options;
        var spool = new AuditSpool(SpoolDirectoryLock.Acquire(_directory.Path), options.MaxSpoolBytes, _probe.Metrics, NullLogger<AuditSpool>.Instance);
        var queue = new AuditQueue(options.QueueCapacity, spool, _probe.Metrics);
        var sink = new AuditSink(queue, _time);
        var publisher = new AuditPublisher(sink, queue, spool, transport, options, _time, _probe.Metrics, NullLogger<AuditPublisher>.Instance);
        var pipeline = new Pipeline(spool, queue, sink, publisher, transport);
        _pipelines.Add(pipeline);
        return pipeline;
    }

    private static async Task StopAsync(Pipeline pipeline)
    {
        await pipeline.Publisher.StopAsync(CancellationToken.None);
        pipeline.Publisher.Dispose();
        pipeline.Spool.Dispose();
    }

    public void Dispose()
    {
        foreach (var pipeline in _pipelines)
        {
            pipeline.Publisher.Dispose();
            pipeline.Spool.Dispose();
        }

        _probe.Dispose();
        _directory.Dispose();
    }

    [Fact]
    public async Task Aggregates_AreFlushedEveryInterval_AndPublished()
    {
        var p = Create();
        await p.Publisher.StartAsync(CancellationToken.None);
        for (var i = 0; i < 3; i++)
        {
            p.Sink.RateLimitRejected("203.0.113.5", "login", "auth", Auth, _time.GetUtcNow());
        }

        Assert.Empty(p.Transport.Published);

        // The interval passes on the fake clock (again and again, in case the loop's timer was not armed yet).
        Assert.True(await AuditTestEvents.EventuallyAsync(() => !p.Transport.Published.IsEmpty, () => _time.Advance(_options.AggregationInterval)));
        var e = Assert.Single(p.Transport.Published);
        Assert.Equal(AuditEventTypes.RateLimitExceeded, e.EventType);
        Assert.Equal(3, AuditTestEvents.Count(e));
        Assert.True(e.OccurredAt > new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.Zero));
        Assert.True(p.Transport.Started);
        Assert.Equal(1, p.Transport.Declarations);
        await StopAsync(p);
    }

    [Fact]
    public async Task Stop_WithTheHostsTokenAlreadyCancelled_StillPublishesWhatIsCounted()
    {
        // The drain may use the whole shutdown timeout; the flush then gets a budget of its own instead of spooling.
        var p = Create();
        await p.Publisher.StartAsync(CancellationToken.None);
        for (var i = 0; i < 4; i++)
        {
            p.Sink.RateLimitRejected("203.0.113.9", "login", "auth", Auth, _time.GetUtcNow());
        }

        using var expired = new CancellationTokenSource();
        await expired.CancelAsync();
        await p.Publisher.StopAsync(expired.Token);

        var e = Assert.Single(p.Transport.Published);
        Assert.Equal(4, AuditTestEvents.Count(e));
        Assert.Equal(0, _probe.Total("mdv.gateway.audit.spooled"));
        Assert.False(p.Spool.HasPending);
    }

    [Fact]
    public async Task Record_IsPublishedAsIs_AfterTheTopologyWasDeclaredOnce()
    {
        var p = Create();
        await p.Publisher.StartAsync(CancellationToken.None);
        var events = Enumerable.Range(0, 250).Select(_ => AuditTestEvents.Discrete()).ToList();

        events.ForEach(p.Sink.Record);

        // Fewer than a message's worth: they wait up to the fill time (on the fake clock) for more.
        Assert.True(await AuditTestEvents.EventuallyAsync(() => p.Transport.Published.Count == events.Count, () => _time.Advance(TimeSpan.FromMilliseconds(10))));
        Assert.Equal(events.Select(e => e.EventId).Order(), p.Transport.Published.Select(e => e.EventId).Order());
        Assert.Equal(1, p.Transport.Declarations);
        Assert.Equal(250, _probe.Total("mdv.gateway.audit.published", "source=queue"));
        Assert.False(p.Spool.HasPending);
        await StopAsync(p);
    }

    [Fact]
    public async Task BrokerAway_EventsAreSpooled_AndReplayedOnceWhenItReturns()
    {
        var p = Create(new FakeAuditTransport { Available = false });
        await p.Publisher.StartAsync(CancellationToken.None);
        var events = Enumerable.Range(0, 5).Select(_ => AuditTestEvents.Discrete()).ToList();

        events.ForEach(p.Sink.Record);
        Assert.True(await AuditTestEvents.EventuallyAsync(() => _probe.Total("mdv.gateway.audit.spooled") == 5));
        Assert.Empty(p.Transport.Published);
        Assert.NotEmpty(_directory.Segments());

        p.Transport.Available = true;
        Assert.True(await AuditTestEvents.EventuallyAsync(() => p.Transport.Published.Count == 5, () => _time.Advance(TimeSpan.FromSeconds(1))));

        Assert.Equal(events.Select(e => e.EventId).Order(), p.Transport.Published.Select(e => e.EventId).Order());
        Assert.True(await AuditTestEvents.EventuallyAsync(() => _directory.Segments().Length == 0));
        Assert.Equal(5, _probe.Total("mdv.gateway.audit.published", "source=spool"));
        Assert.Equal(0, p.Spool.Bytes);
        await StopAsync(p);
        Assert.Equal(5, p.Transport.Published.Count);
    }

    [Fact]
    public async Task BrokerHanging_PublishTimesOut_AndTheEventIsSpooled()
    {
        var p = Create(new FakeAuditTransport { Available = false, Hang = true });
        await p.Publisher.StartAsync(CancellationToken.None);

        p.Sink.Record(AuditTestEvents.Discrete());

        // The publish waits until PublishTimeout passes on the (fake) clock, then gives up and spools.
        Assert.True(await AuditTestEvents.EventuallyAsync(() => _probe.Total("mdv.gateway.audit.spooled", "reason=broker_unavailable") == 1, () => _time.Advance(TimeSpan.FromSeconds(1))));
        Assert.Empty(p.Transport.Published);
    }

    [Fact]
    public async Task Stop_FlushesAggregatesAndPublishesWhatIsQueued()
    {
        var p = Create();
        await p.Publisher.StartAsync(CancellationToken.None);
        p.Sink.RateLimitRejected("203.0.113.5", "login", "auth", Auth, _time.GetUtcNow());
        p.Sink.RateLimitRejected("203.0.113.5", "login", "auth", Auth, _time.GetUtcNow());
        p.Sink.BanBlocked("203.0.113.6", _time.GetUtcNow());

        await StopAsync(p);

        Assert.Equal(2, p.Transport.Published.Count);
        Assert.Equal(3, p.Transport.Published.Sum(AuditTestEvents.Count));
        Assert.True(p.Transport.Stopped);
        Assert.Empty(_directory.Segments());
    }

    [Fact]
    public async Task Stop_WithTheBrokerAway_SpoolsEverything_AndTheNextProcessReplaysItExactlyOnce()
    {
        var first = Create(new FakeAuditTransport { Available = false });
        await first.Publisher.StartAsync(CancellationToken.None);
        var discrete = Enumerable.Range(0, 3).Select(_ => AuditTestEvents.Discrete()).ToList();
        discrete.ForEach(first.Sink.Record);
        for (var i = 0; i < 7; i++)
        {
            first.Sink.RateLimitRejected("203.0.113.5", "login", "auth", Auth, _time.GetUtcNow());
        }

        await StopAsync(first);
        Assert.Empty(first.Transport.Published);
        Assert.NotEmpty(_directory.Segments());

        var second = Create();
        await second.Publisher.StartAsync(CancellationToken.None);

        Assert.True(await AuditTestEvents.EventuallyAsync(() => _directory.Segments().Length == 0));
        await StopAsync(second);
        var published = second.Transport.Published.ToList();
        Assert.Equal(4, published.Count);
        Assert.Equal(4, published.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(discrete.Select(e => e.EventId).Order(), published.Where(e => e.EventType == "admin.test").Select(e => e.EventId).Order());
        Assert.Equal(7, AuditTestEvents.Count(Assert.Single(published, e => e.EventType == AuditEventTypes.RateLimitExceeded)));
    }

    [Fact]
    public async Task EventsRecordedAfterStop_GoToTheSpoolAtDispose()
    {
        var p = Create();
        await p.Publisher.StartAsync(CancellationToken.None);
        await p.Publisher.StopAsync(CancellationToken.None);

        p.Sink.BanBlocked("203.0.113.7", _time.GetUtcNow());
        p.Sink.Record(AuditTestEvents.Discrete());
        p.Publisher.Dispose();

        var segment = p.Spool.TakeOldest()!;
        var spooled = p.Spool.Read(segment);
        Assert.Equal(2, spooled.Count);
        Assert.Contains(spooled, e => e.EventType == AuditEventTypes.BanBlocked && AuditTestEvents.Count(e) == 1);
    }
}
