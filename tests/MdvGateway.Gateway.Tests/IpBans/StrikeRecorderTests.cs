using System.Diagnostics.Metrics;
using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.IpBans;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Tests.Admin;
using MdvGateway.Gateway.Tests.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;

namespace MdvGateway.Gateway.Tests.IpBans;

/// <summary>
/// What a strike that earns a ban does on this node, depending on what the store did with the ban: written, kept a
/// longer one that already stood, or failed.
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
    private readonly RateLimitPolicy _policy;
    private long _bansIssued;
    private long _strikeErrors;

    public StrikeRecorderTests()
    {
        var configuration = TestConfiguration.With();
        var settings = new GatewaySettingsMonitor(configuration, GatewaySettings.TryLoad(configuration, out _)!, NullLogger<GatewaySettingsMonitor>.Instance);
        var meterFactory = _services.GetRequiredService<IMeterFactory>();
        _recorder = new StrikeRecorder(_store, _cache, settings, new GatewayMetrics(meterFactory), NullLogger<StrikeRecorder>.Instance, _audit);
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

        await _recorder.RecordAsync(Client, _policy);

        Assert.Equal("auto", _cache.Find(Client, Now)?.Origin);
        Assert.Equal(1, Interlocked.Read(ref _bansIssued));
        Assert.Equal(0, Interlocked.Read(ref _strikeErrors));
        Assert.Equal([AuditEventTypes.BanIssued], _audit.Events.Select(e => e.EventType));
    }

    [Fact]
    public async Task LongerBanAlreadyStanding_IsNotReplacedHere_NorCountedNorAudited()
    {
        // Another node wrote a longer ban a moment ago; the store kept it and says so.
        _store.Written = false;

        await _recorder.RecordAsync(Client, _policy);

        Assert.Null(_cache.Find(Client, Now));
        Assert.Equal(0, Interlocked.Read(ref _bansIssued));
        Assert.Empty(_audit.Events);
    }

    [Fact]
    public async Task BanThatCouldNotBeWritten_IsStillEnforcedOnThisNode()
    {
        _store.FailUpsert = true;

        await _recorder.RecordAsync(Client, _policy);

        Assert.Equal("auto", _cache.Find(Client, Now)?.Origin);
        Assert.Equal(0, Interlocked.Read(ref _bansIssued));
        Assert.Equal(1, Interlocked.Read(ref _strikeErrors));
        Assert.Empty(_audit.Events);
    }

    [Fact]
    public async Task StrikeThatCouldNotBeRecorded_IsCountedAsAnError_AndBansNobody()
    {
        _store.FailStrike = true;

        await _recorder.RecordAsync(Client, _policy);

        Assert.Null(_cache.Find(Client, Now));
        Assert.Equal(1, Interlocked.Read(ref _strikeErrors));
        Assert.Equal(0, Interlocked.Read(ref _bansIssued));
    }

    public void Dispose()
    {
        _listener.Dispose();
        _services.Dispose();
    }

    /// <summary>Every strike earns a one-hour first-level ban; the upsert answers as told.</summary>
    private sealed class BanningStore : IBanStore
    {
        public bool Written { get; set; }

        public bool FailUpsert { get; set; }

        public bool FailStrike { get; set; }

        public Task<StrikeResult> RecordStrikeAsync(string clientKey, StrikePolicy policy)
            => FailStrike ? Task.FromException<StrikeResult>(new TimeoutException("Redis did not answer")) : Task.FromResult(new StrikeResult(Banned: true, Strikes: policy.StrikesBeforeBan, Level: 1, Duration: TimeSpan.FromHours(1), Now: Now));

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
