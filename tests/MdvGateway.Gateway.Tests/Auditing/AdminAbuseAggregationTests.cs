using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.RateLimiting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Auditing;

/// <summary><c>abuse.refused</c> as the admin API produces it: aggregated per client and reason, exactly.</summary>
public sealed class AdminAbuseAggregationTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.Zero));
    private readonly AuditAggregator _aggregator = new();

    private List<AuditEventRecorded> Flush() => _aggregator.Flush(_time.GetUtcNow(), "gateway:test:1");

    [Fact]
    public void Refusals_OfOneClientAndReason_AreOneEventWithCountBoundsAndReason()
    {
        var start = _time.GetUtcNow();
        _aggregator.AddAbuseRefused("203.0.113.5", "admin-auth-failed", start.AddMilliseconds(400));
        _aggregator.AddAbuseRefused("203.0.113.5", "admin-auth-failed", start);
        _aggregator.AddAbuseRefused("203.0.113.5", "admin-auth-failed", start.AddMilliseconds(900));
        _time.Advance(TimeSpan.FromSeconds(1));

        var e = Assert.Single(Flush());

        Assert.Equal((AuditEventTypes.AbuseRefused, "203.0.113.5", "gateway:test:1"), (e.EventType, e.ClientIp, e.Actor));
        Assert.Equal(_time.GetUtcNow(), e.OccurredAt);
        Assert.Null(e.RouteId);
        Assert.Null(e.Policy);
        Assert.Equal(3, e.Details.GetProperty("count").GetInt64());
        Assert.Equal("2026-11-25T18:00:00.000Z", e.Details.GetProperty("firstAt").GetString());
        Assert.Equal("2026-11-25T18:00:00.900Z", e.Details.GetProperty("lastAt").GetString());
        Assert.Equal("admin-auth-failed", e.Details.GetProperty("reason").GetString());
        Assert.False(e.Details.TryGetProperty("limit", out _));
    }

    [Fact]
    public void Refusals_AreKeptApartByClientAndReason_AndFromOtherAggregates()
    {
        var at = _time.GetUtcNow();
        _aggregator.AddAbuseRefused("203.0.113.5", "admin-auth-failed", at);
        _aggregator.AddAbuseRefused("203.0.113.5", "admin-auth-locked", at);
        _aggregator.AddAbuseRefused("203.0.113.5", "admin-auth-locked", at);
        _aggregator.AddAbuseRefused("203.0.113.6", "admin-auth-failed", at);
        _aggregator.AddAbuseRefused(null, "admin-auth-failed", at);
        _aggregator.AddBanBlocked("203.0.113.5", at);
        _aggregator.AddRejection("203.0.113.5", "login", "auth", new RateLimit("auth", 5, TimeSpan.FromMinutes(1)), at);

        var events = Flush();

        var refused = events.Where(e => e.EventType == AuditEventTypes.AbuseRefused)
            .Select(e => (e.ClientIp, e.Details.GetProperty("reason").GetString(), e.Details.GetProperty("count").GetInt64()))
            .Order()
            .ToList();
        Assert.Equal(
            [(null, "admin-auth-failed", 1L), ("203.0.113.5", "admin-auth-failed", 1L), ("203.0.113.5", "admin-auth-locked", 2L), ("203.0.113.6", "admin-auth-failed", 1L)],
            refused);
        Assert.Equal(6, events.Count);
    }

    [Fact]
    public async Task Refusals_WhileFlushesRace_AreEachReportedExactlyOnce()
    {
        const int Writers = 8;
        const int PerWriter = 20_000;
        var reported = new List<AuditEventRecorded>();
        using var stop = new CancellationTokenSource();
        var flusher = Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                reported.AddRange(Flush());
            }
        });

        await Task.WhenAll(Enumerable.Range(0, Writers).Select(w => Task.Run(() =>
        {
            for (var i = 0; i < PerWriter; i++)
            {
                _aggregator.AddAbuseRefused("203.0.113." + (w % 2), i % 3 == 0 ? "admin-auth-locked" : "admin-auth-failed", _time.GetUtcNow());
            }
        })));
        await stop.CancelAsync();
        await flusher;
        reported.AddRange(Flush());

        Assert.Equal(Writers * PerWriter, reported.Sum(e => e.Details.GetProperty("count").GetInt64()));
        var locked = reported.Where(e => e.Details.GetProperty("reason").GetString() == "admin-auth-locked").Sum(e => e.Details.GetProperty("count").GetInt64());
        Assert.Equal(Writers * ((PerWriter + 2) / 3), locked);
    }

    [Fact]
    public void AuditSink_AbuseRefused_IsQueuedAggregatedAtTheNextFlush()
    {
        using var probe = new MetricsProbe();
        using var directory = new TempDirectory();
        using var spool = new AuditSpool(SpoolDirectoryLock.Acquire(directory.Path), 1L << 20, probe.Metrics, NullLogger<AuditSpool>.Instance);
        var queue = new AuditQueue(100, spool, probe.Metrics);
        var sink = new AuditSink(queue, _time);
        sink.AbuseRefused("203.0.113.5", "admin-auth-failed", _time.GetUtcNow());
        sink.AbuseRefused("203.0.113.5", "admin-auth-failed", _time.GetUtcNow());
        Assert.Equal(0, queue.Count);

        Assert.Equal(1, sink.FlushAggregates());

        Assert.True(queue.Reader.TryRead(out var e));
        Assert.Equal((AuditEventTypes.AbuseRefused, 2L), (e.EventType, e.Details.GetProperty("count").GetInt64()));
    }
}
