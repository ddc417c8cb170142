using MdvGateway.Gateway.Diagnostics;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Diagnostics;

/// <summary>
/// Refusals are summarised, not logged one by one: per interval at most <c>RefusalSummaryClients</c> lines naming a
/// client and one line per reason for the rest, with exact counts even past the table's bound.
/// </summary>
public sealed class RefusalLogTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(10);
    private readonly FakeLogger<RefusalLog> _log = new();
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 12, 7, 12, 0, 0, TimeSpan.Zero));

    [Fact]
    public void AFlood_IsOneLinePerClientAndReason_WhenTheIntervalEnds()
    {
        using var refusals = Create(new RequestLogOptions { RefusalSummaryInterval = Interval });
        var scanner = Refuse(refusals, "198.51.100.7", RefusalReasons.Unrouted, 300);
        Refuse(refusals, "198.51.100.8", RefusalReasons.RateLimited, 5);

        Assert.Empty(_log.Collector.GetSnapshot());
        Assert.True(RefusalLog.IsRefusal(scanner));
        Assert.Equal(2, refusals.TrackedClients);

        _time.Advance(Interval);

        var lines = _log.Collector.GetSnapshot();
        Assert.Equal(2, lines.Count);
        Assert.All(lines, l => Assert.Equal(7101, l.Id.Id));
        Assert.Equal(("198.51.100.7", "unrouted", "300"), Fields(lines[0]));
        Assert.Equal(("198.51.100.8", "rate_limited", "5"), Fields(lines[1]));
        Assert.Equal(0, refusals.TrackedClients);

        _time.Advance(Interval);
        Assert.Equal(2, _log.Collector.Count);
    }

    [Fact]
    public void PastRefusalSummaryClients_TheRestIsOneLinePerReason_WithExactCounts()
    {
        using var refusals = Create(new RequestLogOptions { RefusalSummaryInterval = Interval, RefusalSummaryClients = 2 });
        for (var i = 1; i <= 50; i++)
        {
            Refuse(refusals, $"10.1.0.{i}", RefusalReasons.Banned, i);
        }

        _time.Advance(Interval);

        var lines = _log.Collector.GetSnapshot();
        Assert.Equal(3, lines.Count);
        Assert.Equal(("10.1.0.50", "banned", "50"), Fields(lines[0]));
        Assert.Equal(("10.1.0.49", "banned", "49"), Fields(lines[1]));
        var rest = lines[2];
        Assert.Equal(7102, rest.Id.Id);
        Assert.Equal((50 * 51 / 2) - 50 - 49, long.Parse(Value(rest, "Count"), System.Globalization.CultureInfo.InvariantCulture));
        Assert.Equal("48", Value(rest, "Clients"));
    }

    [Fact]
    public void PastRefusalTrackedClients_NewClientsAreCountedPerReasonOnly_AndTheTableStaysBounded()
    {
        using var refusals = Create(new RequestLogOptions { RefusalSummaryInterval = Interval, RefusalSummaryClients = 0, RefusalTrackedClients = 100 });
        for (var i = 0; i < 1000; i++)
        {
            Refuse(refusals, $"2001:db8:{i:x}::/64", RefusalReasons.RateLimited, 2);
        }

        Assert.Equal(100, refusals.TrackedClients);
        _time.Advance(Interval);

        var line = Assert.Single(_log.Collector.GetSnapshot());
        Assert.Equal(7102, line.Id.Id);
        Assert.Equal("2000", Value(line, "Count"));
        Assert.Equal("100", Value(line, "Clients"));
        Assert.Equal("1800", Value(line, "Untracked"));
    }

    [Fact]
    public void AQuietInterval_WritesNothing()
    {
        using var refusals = Create(new RequestLogOptions { RefusalSummaryInterval = Interval });
        _time.Advance(Interval * 3);
        Assert.Empty(_log.Collector.GetSnapshot());
        Assert.False(RefusalLog.IsRefusal(new DefaultHttpContext()));
    }

    [Theory]
    [InlineData("00:00:00", 20, 10_000, "RequestLog:RefusalSummaryInterval")]
    [InlineData("02:00:00", 20, 10_000, "RequestLog:RefusalSummaryInterval")]
    [InlineData("00:00:10", -1, 10_000, "RequestLog:RefusalSummaryClients")]
    [InlineData("00:00:10", 20, 0, "RequestLog:RefusalTrackedClients")]
    [InlineData("00:00:10", 50, 10, "RequestLog:RefusalTrackedClients")]
    public void Validator_NamesTheBadKey(string interval, int clients, int tracked, string key)
    {
        var problems = new List<string>();
        RequestLogOptionsValidator.Validate(new RequestLogOptions { RefusalSummaryInterval = TimeSpan.Parse(interval, System.Globalization.CultureInfo.InvariantCulture), RefusalSummaryClients = clients, RefusalTrackedClients = tracked }, problems);
        var problem = Assert.Single(problems);
        Assert.StartsWith(key + ":", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validator_AcceptsTheDefaults()
    {
        var problems = new List<string>();
        RequestLogOptionsValidator.Validate(new RequestLogOptions(), problems);
        Assert.Empty(problems);
    }

    private RefusalLog Create(RequestLogOptions options) => new(options, _log, _time);

    private static HttpContext Refuse(RefusalLog refusals, string client, string reason, int times)
    {
        HttpContext context = new DefaultHttpContext();
        for (var i = 0; i < times; i++)
        {
            context = new DefaultHttpContext();
            refusals.Record(context, client, reason);
        }

        return context;
    }

    private static (string Client, string Reason, string Count) Fields(FakeLogRecord record)
        => (Value(record, "ClientIp"), Value(record, "Reason"), Value(record, "Count"));

    private static string Value(FakeLogRecord record, string name)
        => record.StructuredState!.Single(kv => kv.Key == name).Value!;
}
