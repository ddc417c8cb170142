using System.Collections.Concurrent;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Tests.Configuration;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class ConfigurationAuditorTests : IDisposable
{
    private readonly IConfigurationRoot _configuration = (IConfigurationRoot)TestConfiguration.With();
    private readonly RecordingSink _sink = new();
    private readonly GatewaySettingsMonitor _monitor;
    private readonly ConfigurationAuditor _auditor;

    public ConfigurationAuditorTests()
    {
        var initial = GatewaySettings.TryLoad(_configuration, out _)!;
        _monitor = new GatewaySettingsMonitor(_configuration, initial, NullLogger<GatewaySettingsMonitor>.Instance);
        _auditor = new ConfigurationAuditor(_monitor, _configuration, _sink, new FakeTimeProvider());
        _auditor.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
    }

    public void Dispose()
    {
        _auditor.StopAsync(CancellationToken.None).GetAwaiter().GetResult();
        _monitor.Dispose();
    }

    [Fact]
    public void Reload_ThatChangesSomething_RecordsConfigReloadedWithTheSections()
    {
        _configuration["RateLimiting:Policies:auth:PermitLimit"] = "7";
        _configuration.Reload();

        var e = Assert.Single(_sink.Events);
        Assert.Equal(AuditEventTypes.ConfigReloaded, e.EventType);
        Assert.Equal(["RateLimiting"], e.Details.GetProperty("changed").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(AuditEvents.NodeId, e.Actor);
    }

    [Fact]
    public void Reload_WithoutAnyChange_RecordsNothing()
    {
        _configuration.Reload();

        Assert.Empty(_sink.Events);
    }

    [Fact]
    public void Reload_Refused_RecordsConfigRejectedWithEveryProblem_OncePerDistinctRefusal()
    {
        _configuration["RateLimiting:Policies:auth:PermitLimit"] = "0";
        _configuration["IpBans:OnBreach"] = "Ban";
        _configuration.Reload();
        _configuration.Reload();

        var e = Assert.Single(_sink.Events);
        Assert.Equal(AuditEventTypes.ConfigRejected, e.EventType);
        var problems = e.Details.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:auth:PermitLimit", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("IpBans:OnBreach", StringComparison.Ordinal));
        Assert.Equal(5, _monitor.Current.RateLimits.Resolve("auth")!.Limits[0].PermitLimit);
    }

    [Fact]
    public void Reload_FixingARefusedEdit_RecordsTheChangeAgainstWhatWasInForce()
    {
        _configuration["RateLimiting:Policies:auth:PermitLimit"] = "0";
        _configuration.Reload();
        _configuration["RateLimiting:Policies:auth:PermitLimit"] = "9";
        _configuration["Redis:KeyPrefix"] = "other";
        _configuration.Reload();

        Assert.Equal([AuditEventTypes.ConfigRejected, AuditEventTypes.ConfigReloaded], _sink.Events.Select(e => e.EventType));
        Assert.Equal(["RateLimiting", "Redis"], _sink.Events[^1].Details.GetProperty("changed").EnumerateArray().Select(s => s.GetString()));
    }

    private sealed class RecordingSink : IAuditSink
    {
        private readonly ConcurrentQueue<AuditEventRecorded> _events = new();

        public IReadOnlyList<AuditEventRecorded> Events => [.. _events];

        public void RateLimitRejected(string? client, string routeId, string policy, RateLimit limit, DateTimeOffset at)
        {
        }

        public void BanBlocked(string? client, DateTimeOffset at)
        {
        }

        public void AbuseRefused(string? client, string reason, DateTimeOffset at)
        {
        }

        public void Record(AuditEventRecorded auditEvent) => _events.Enqueue(auditEvent);
    }
}
