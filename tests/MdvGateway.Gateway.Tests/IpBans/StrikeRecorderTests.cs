using System.Diagnostics.Metrics;
using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.IpBans;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;
using MdvGateway.Gateway.Tests.Admin;
using MdvGateway.Gateway.Tests.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Logging.Testing;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.IpBans;

/// <summary>
/// What a ban that strikes earned does on this node, depending on what the store did with it (written, kept a longer
/// one that already stood, or failed), and what happens to strikes counted locally when they cannot reach Redis.
/// </summary>
public sealed class StrikeRecorderTests : IDisposable
{
    private static readonly Gateway.ClientIdentity.ClientIdentity Client = new(IPAddress.Parse("203.0.113.50"), "203.0.113.50");
    private static readonly DateTimeOffset Now = new(2026, 1, 1, 12, 0, 0, TimeSpan.Zero);

    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();
    private readonly BanningStore _store = new();
    private readonly BanCache _cache = new();
    private readonly RecordingAuditSink _audit = new();
    private readonly MeterListener _listener = new();
    private readonly StrikeRecorder _recorder;
    private readonly FakeLogger<StrikeRecorder> _log = new();
    private readonly FakeTimeProvider _time = new(Now);
    private readonly RedisConnection _connection = new(new GatewayRedisConfiguration("127.0.0.1:1,abortConnect=false", 250), NullLogger<RedisConnection>.Instance);
    private readonly EarnedBan _earned = new(1, TimeSpan.FromHours(1), 10, Now);
    private readonly RateLimitPolicy _policy;
    private long _bansIssued;
    private long _strikeErrors;

    public StrikeRecorderTests()
    {
        var configuration = TestConfiguration.With();
        var settings = new GatewaySettingsMonitor(configuration, GatewaySettings.TryLoad(configuration, out _)!, NullLogger<GatewaySettingsMonitor>.Instance);
        var meterFactory = _services.GetRequiredService<IMeterFactory>();
        var metrics = new GatewayMetrics(meterFactory);
        var breaker = new RedisCircuitBreaker(_time, () => settings.Current.Redis);
        var batcher = new RedisDecisionBatcher(_connection, settings, breaker, metrics, _time, new GatewayRedisConfiguration("unused", 250), NullLogger<RedisDecisionBatcher>.Instance);
        _recorder = new StrikeRecorder(_store, _cache, settings, metrics, _log, _audit, batcher, breaker, _time);
        _policy = settings.Current.RateLimits.Resolve("per-ip")!;

        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meterFactory) && instrument.Name is "mdv.gateway.bans.issued" or "mdv.gateway.bans.strike_errors")
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, _, _) =>
        {
            if (instrument.Name == "mdv.gateway.bans.issued")
            {
                Interlocked.Add(ref _bansIssued, value);
            }
            else
            {
                Interlocked.Add(ref _strikeErrors, value);
            }
        });
        _listener.Start();
    }

    [Fact]
    public async Task BanWritten_IsEnforcedHere_CountedAndAudited()
    {
        _store.Written = true;

        await _recorder.IssueAsync(Client.Key, _policy.Name, _earned);

        Assert.Equal("auto", _cache.Find(Client, Now)?.Origin);
        Assert.Equal(1, Interlocked.Read(ref _bansIssued));
        Assert.Equal(0, Interlocked.Read(ref _strikeErrors));
        Assert.Equal([AuditEventTypes.BanIssued], _audit.Events.Select(e => e.EventType));
    }

    [Fact]
    public async Task AStormOfBans_LogsAtMost20Lines_ThenOneCount_WhileEveryBanIsAuditedAndCounted()
    {
        _store.Written = true;

        for (var i = 0; i < 50; i++)
        {
            await _recorder.IssueAsync($"203.0.113.{i}", _policy.Name, _earned);
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        _recorder.Flush();

        var lines = _log.Collector.GetSnapshot();
        Assert.Equal(StrikeRecorder.BanLinesPerSecond, lines.Count(l => l.Id.Id == 4001));
        var summary = Assert.Single(lines, l => l.Id.Id == 4004);
        Assert.StartsWith("30 more automatic bans", summary.Message, StringComparison.Ordinal);
        Assert.Equal(50, _audit.Events.Count(e => e.EventType == AuditEventTypes.BanIssued));
        Assert.Equal(50, Interlocked.Read(ref _bansIssued));
    }

    [Fact]
    public async Task LongerBanAlreadyStanding_IsNotReplacedHere_NorCountedNorAudited()
    {
        // Another node wrote a longer ban a moment ago; the store kept it and says so.
        _store.Written = false;

        await _recorder.IssueAsync(Client.Key, _policy.Name, _earned);

        Assert.Null(_cache.Find(Client, Now));
        Assert.Equal(0, Interlocked.Read(ref _bansIssued));
        Assert.Empty(_audit.Events);
    }

    [Fact]
    public async Task BanThatCouldNotBeWritten_IsStillEnforcedOnThisNode()
    {
        _store.FailUpsert = true;

        await _recorder.IssueAsync(Client.Key, _policy.Name, _earned);

        Assert.Equal("auto", _cache.Find(Client, Now)?.Origin);
        Assert.Equal(0, Interlocked.Read(ref _bansIssued));
        Assert.Equal(1, Interlocked.Read(ref _strikeErrors));
        Assert.Empty(_audit.Events);
    }

    [Fact]
    public void LocalStrikes_ThatCannotReachRedis_AreCountedAsErrors_AndBanNobody()
    {
        // Nothing listens on port 1: the flush's call fails at once, and each client's operation counts one error.
        _recorder.Count(Client.Key, _policy);
        _recorder.Count(Client.Key, _policy);
        _recorder.Count("203.0.113.51", _policy);
        Assert.Equal(2, _recorder.PendingClients);

        _recorder.Flush();

        Assert.Equal(0, _recorder.PendingClients);
        Assert.Equal(2, Interlocked.Read(ref _strikeErrors));
        Assert.Null(_cache.Find(Client, Now));
        Assert.Equal(0, Interlocked.Read(ref _bansIssued));
    }

    [Fact]
    public void LocalStrikes_AreBounded_ByTheNumberOfClientsWaitingForAFlush()
    {
        for (var i = 0; i < StrikeRecorder.MaxPendingClients + 3; i++)
        {
            _recorder.Count(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"c{i}"), _policy);
        }

        // A client already waiting still gets its strikes counted; three new ones beyond the bound were dropped.
        _recorder.Count("c0", _policy);
        Assert.Equal(StrikeRecorder.MaxPendingClients, _recorder.PendingClients);
        Assert.Equal(3, Interlocked.Read(ref _strikeErrors));
    }

    public void Dispose()
    {
        _recorder.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _connection.DisposeAsync().AsTask().GetAwaiter().GetResult();
        _listener.Dispose();
        _services.Dispose();
    }

    /// <summary>The upsert answers as told.</summary>
    private sealed class BanningStore : IBanStore
    {
        public bool Written { get; set; }

        public bool FailUpsert { get; set; }

        public Task<bool> UpsertAsync(Ban ban, bool keepLonger)
            => FailUpsert ? Task.FromException<bool>(new TimeoutException("Redis did not answer")) : Task.FromResult(Written);

        public Task<bool> ReplaceAsync(Ban ban) => throw new NotSupportedException();

        public Task RescheduleOffensesAsync(string clientKey, DateTimeOffset? banEnd) => throw new NotSupportedException();

        public Task<bool> RemoveAsync(string target) => throw new NotSupportedException();

        public Task ClearOffensesAsync(string clientKey, bool resetLevel) => throw new NotSupportedException();

        public Task<IReadOnlyList<Ban>> GetActiveAsync() => throw new NotSupportedException();

        public Task<Ban?> GetAsync(string target) => throw new NotSupportedException();

        public Task<IReadOnlyList<Offender>> GetOffendersAsync(int top) => throw new NotSupportedException();

        public Task<DateTimeOffset> GetTimeAsync() => throw new NotSupportedException();
    }
}
