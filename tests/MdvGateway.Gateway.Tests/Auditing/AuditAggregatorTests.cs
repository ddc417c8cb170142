using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class AuditAggregatorTests
{
    private static readonly RateLimit Auth = new("auth", 5, TimeSpan.FromMinutes(1));
    private static readonly RateLimit Burst = new("search-1s", 10, TimeSpan.FromSeconds(1));
    private static readonly RateLimit Hourly = new("search-hourly", 1000, TimeSpan.FromHours(1));

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.Zero));
    private readonly AuditAggregator _aggregator = new();

    private List<AuditEventRecorded> Flush() => _aggregator.Flush(_time.GetUtcNow(), "gateway:test:1");

    [Fact]
    public void Flush_WithoutActivity_ReturnsNoEvents()
    {
        Assert.Empty(Flush());
    }

    [Fact]
    public void Rejections_OfOneClientRouteAndPolicy_AreOneEventWithTheExactCountAndBounds()
    {
        var start = _time.GetUtcNow();
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, start);
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, start.AddMilliseconds(100));
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, start.AddMilliseconds(900));
        _time.Advance(TimeSpan.FromSeconds(1));

        var e = Assert.Single(Flush());

        Assert.Equal(AuditEventTypes.RateLimitExceeded, e.EventType);
        Assert.Equal("203.0.113.5", e.ClientIp);
        Assert.Equal("login", e.RouteId);
        Assert.Equal("auth", e.Policy);
        Assert.Equal("gateway:test:1", e.Actor);
        Assert.Equal(_time.GetUtcNow(), e.OccurredAt);
        Assert.NotEqual(Guid.Empty, e.EventId);
        Assert.Equal(3, e.Details.GetProperty("count").GetInt64());
        Assert.Equal("2026-11-25T18:00:00.000Z", e.Details.GetProperty("firstAt").GetString());
        Assert.Equal("2026-11-25T18:00:00.900Z", e.Details.GetProperty("lastAt").GetString());
        Assert.Equal(5, e.Details.GetProperty("limit").GetInt32());
        Assert.Equal(60, e.Details.GetProperty("window").GetDouble());
        Assert.Equal("auth", e.Details.GetProperty("limitName").GetString());
    }

    [Fact]
    public void Rejections_AreKeptApartByClientRoutePolicyAndLimit()
    {
        var at = _time.GetUtcNow();
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, at);
        _aggregator.AddRejection("203.0.113.6", "login", "auth", Auth, at);
        _aggregator.AddRejection("203.0.113.5", "login2", "auth", Auth, at);
        _aggregator.AddRejection("203.0.113.5", "search", "search", Burst, at);
        _aggregator.AddRejection("203.0.113.5", "search", "search", Hourly, at);
        _aggregator.AddRejection("203.0.113.5", "search", "search", Hourly, at);

        var events = Flush();

        Assert.Equal(5, events.Count);
        Assert.Equal(6, events.Sum(AuditTestEvents.Count));
        var hourly = Assert.Single(events, e => e.Details.GetProperty("limitName").GetString() == "search-hourly");
        Assert.Equal(2, AuditTestEvents.Count(hourly));
        Assert.Equal(3600, hourly.Details.GetProperty("window").GetDouble());
    }

    [Fact]
    public void Flush_StartsCountingAfresh_AndForgetsIdleClients()
    {
        var at = _time.GetUtcNow();
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, at);
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, at);
        Assert.Equal(2, AuditTestEvents.Count(Assert.Single(Flush())));

        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, at.AddSeconds(1));
        Assert.Equal(1, AuditTestEvents.Count(Assert.Single(Flush())));

        Assert.Equal(1, _aggregator.BucketCount);
        Assert.Empty(Flush());
        Assert.Equal(0, _aggregator.BucketCount);

        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, at.AddSeconds(3));
        Assert.Equal(1, AuditTestEvents.Count(Assert.Single(Flush())));
    }

    [Fact]
    public void Rejections_ReportedOutOfTimestampOrder_KeepTheEarliestAndLatest()
    {
        var start = _time.GetUtcNow();
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, start.AddMilliseconds(500));
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, start.AddMilliseconds(200));
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, start.AddMilliseconds(700));
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, start.AddMilliseconds(300));

        var e = Assert.Single(Flush());

        Assert.Equal("2026-11-25T18:00:00.200Z", e.Details.GetProperty("firstAt").GetString());
        Assert.Equal("2026-11-25T18:00:00.700Z", e.Details.GetProperty("lastAt").GetString());
    }

    [Fact]
    public void BanBlocked_IsAggregatedPerClient_WithoutRouteOrLimit()
    {
        var at = _time.GetUtcNow();
        _aggregator.AddBanBlocked("203.0.113.5", at);
        _aggregator.AddBanBlocked("203.0.113.5", at.AddMilliseconds(10));
        _aggregator.AddBanBlocked("2001:db8:1:2::/64", at);
        _aggregator.AddRejection("203.0.113.5", "login", "auth", Auth, at);

        var events = Flush();

        var blocked = events.Where(e => e.EventType == AuditEventTypes.BanBlocked).OrderBy(e => e.ClientIp, StringComparer.Ordinal).ToList();
        Assert.Equal(2, blocked.Count);
        Assert.Equal(("2001:db8:1:2::/64", 1L), (blocked[0].ClientIp, AuditTestEvents.Count(blocked[0])));
        Assert.Equal(("203.0.113.5", 2L), (blocked[1].ClientIp, AuditTestEvents.Count(blocked[1])));
        Assert.Null(blocked[1].RouteId);
        Assert.Null(blocked[1].Policy);
        Assert.False(blocked[1].Details.TryGetProperty("limit", out _));
        Assert.Single(events, e => e.EventType == AuditEventTypes.RateLimitExceeded);
    }

    [Fact]
    public void Rejections_OfAnUnknownClient_HaveNoClientIp()
    {
        _aggregator.AddRejection(null, "login", "auth", Auth, _time.GetUtcNow());

        Assert.Null(Assert.Single(Flush()).ClientIp);
    }

    [Fact]
    public void Flush_GivesEveryEventANewEventId()
    {
        var ids = new HashSet<Guid>();
        for (var round = 0; round < 5; round++)
        {
            for (var client = 0; client < 20; client++)
            {
                _aggregator.AddRejection($"203.0.113.{client}", "login", "auth", Auth, _time.GetUtcNow());
            }

            foreach (var e in Flush())
            {
                Assert.True(ids.Add(e.EventId));
            }

            _time.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(100, ids.Count);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(256)]
    public void Add_FromManyThreadsWhileFlushesRace_CountsEveryIncrementExactlyOnce(int distinctClients)
    {
        // Few clients: buckets are contended. Many clients: buckets go idle between a thread's visits, so flushes keep
        // retiring buckets that writers are about to use (the dead-bucket race).
        const int writers = 8;
        const int perWriter = 40_000;
        var expected = new long[distinctClients];
        var reported = new Dictionary<string, long>(StringComparer.Ordinal);
        using var start = new Barrier(writers + 1);
        var writing = writers;

        var flusher = new Thread(() =>
        {
            start.SignalAndWait();
            while (Volatile.Read(ref writing) > 0)
            {
                Collect(_aggregator.Flush(_time.GetUtcNow(), "t"));
            }
        });
        var threads = Enumerable.Range(0, writers).Select(w => new Thread(() =>
        {
            start.SignalAndWait();
            for (var i = 0; i < perWriter; i++)
            {
                var client = (i * 7 + w) % distinctClients;
                if (w % 2 == 0)
                {
                    _aggregator.AddRejection($"c{client}", "api", "p", Burst, _time.GetUtcNow());
                }
                else
                {
                    _aggregator.AddBanBlocked($"c{client}", _time.GetUtcNow());
                }
            }

            Interlocked.Decrement(ref writing);
        })).ToList();
        for (var w = 0; w < writers; w++)
        {
            for (var i = 0; i < perWriter; i++)
            {
                expected[(i * 7 + w) % distinctClients]++;
            }
        }

        flusher.Start();
        threads.ForEach(t => t.Start());
        threads.ForEach(t => t.Join());
        flusher.Join();
        Collect(_aggregator.Flush(_time.GetUtcNow(), "t"));

        Assert.Equal((long)writers * perWriter, reported.Values.Sum());
        for (var client = 0; client < distinctClients; client++)
        {
            Assert.Equal(expected[client], reported[$"c{client}"]);
        }

        void Collect(List<AuditEventRecorded> events)
        {
            foreach (var e in events)
            {
                reported[e.ClientIp!] = reported.GetValueOrDefault(e.ClientIp!) + AuditTestEvents.Count(e);
            }
        }
    }
}
