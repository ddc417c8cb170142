using System.Diagnostics;
using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.FunctionalTests.Auditing;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Xunit.Abstractions;

namespace MdvGateway.Gateway.FunctionalTests.Resilience;

/// <summary>
/// SIGTERM to a gateway process under concurrent load: it stops accepting, finishes what it accepted (no 5xx, no
/// dropped response), publishes every counted rejection to RabbitMQ, and exits 0.
/// </summary>
[Collection(ResilienceTests.Name)]
public sealed class GracefulShutdownTests(UpstreamFixture fixture, ITestOutputHelper output) : IClassFixture<UpstreamFixture>, IDisposable
{
    /// <summary>The host's shutdown timeout when nothing configures it (<c>HostOptions.ShutdownTimeout</c>).</summary>
    private static readonly TimeSpan DefaultShutdownTimeout = TimeSpan.FromSeconds(30);

    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    [Fact]
    public async Task Sigterm_UnderLoad_DrainsAcceptedRequests_AuditsEveryRefusal_ExitsZero()
    {
        var run = await RunAsync(shutdownTimeoutSeconds: null, aggregationInterval: "00:00:01");

        Assert.True(run.ShutdownTook < DefaultShutdownTimeout, $"shutdown took {run.ShutdownTook.TotalSeconds:F1} s");

        // Accepted before the signal, answered after it: drained, not cut off.
        Assert.All(run.InFlight, s => Assert.Equal(HttpStatusCode.OK, s));
        AssertEveryAcceptedRequestAnswered(run);
        AssertEveryRefusalPublishedOnce(run);
    }

    /// <summary>
    /// The drain may use the host's whole shutdown timeout (a slow upstream call); the audit flush that follows must
    /// still reach the broker, not the spool: a pod's spool directory is deleted with the pod.
    /// </summary>
    [Fact]
    public async Task Sigterm_WhenTheDrainUsesTheWholeShutdownTimeout_AuditStillReachesTheBroker()
    {
        // Counts are aggregated for a minute: everything the clients saw is still in memory at SIGTERM.
        var run = await RunAsync(shutdownTimeoutSeconds: 2, aggregationInterval: "00:01:00");

        // The slow calls outlived the operator's timeout: cut off then (never a 5xx), and the process exits on time.
        Assert.All(run.InFlight, s => Assert.True(s is null, $"a request longer than the shutdown timeout was answered {s}"));
        Assert.True(run.ShutdownTook < TimeSpan.FromSeconds(2) + TimeSpan.FromSeconds(10), $"shutdown took {run.ShutdownTook.TotalSeconds:F1} s");
        AssertEveryAcceptedRequestAnswered(run);
        AssertEveryRefusalPublishedOnce(run);
    }

    private async Task<ShutdownRun> RunAsync(int? shutdownTimeoutSeconds, string aggregationInterval)
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "tight")
            .Policy("tight", 5, "00:00:02")
            .Route("drain", "/drain", "Disable")
            .Set("IpBans:Enabled", "true")
            .Set("IpBans:StrikesBeforeBan", "5")
            .List("IpBans:BanDurations", "00:10:00")
            .List("IpBans:Allowlist", "127.0.70.0/24")
            .WithAudit(_spool, RabbitMqTestBroker.Port, vhost.Name)
            .Set("Audit:PublishTimeout", "00:00:05")
            .Set("Audit:AggregationInterval", aggregationInterval)
            .Set("Serilog:MinimumLevel:Override:MdvGateway.Gateway.Auditing", "Information");
        if (shutdownTimeoutSeconds is { } seconds)
        {
            // The host's own setting (DOTNET_SHUTDOWNTIMEOUTSECONDS in the deployment files).
            config.Set("shutdownTimeoutSeconds", seconds.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }

        await using var gateway = await GatewayProcess.StartAsync(config.Values);

        // Allowlisted clients are only rate-limited (429s); the others earn a ban within a few requests (403s).
        var limited = Enumerable.Range(1, 4).Select(i => $"127.0.70.{i}");
        var banned = Enumerable.Range(1, 2).Select(i => $"127.0.71.{i}");
        await using var load = new ClientLoad(gateway.Address, limited.Concat(banned), workersPerClient: 3, "/api/x", TimeSpan.FromMilliseconds(10));
        load.Start("running");
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        // Accepted and still in flight when the signal comes: the upstream holds /slow/ requests for 5 s.
        using var slowClient = TestClients.From("127.0.72.1", gateway.Address);
        var inFlight = Enumerable.Range(0, 4).Select(async i =>
        {
            try
            {
                using var response = await slowClient.GetAsync($"/drain/slow/{i}");
                return (HttpStatusCode?)response.StatusCode;
            }
            catch (HttpRequestException)
            {
                return null;
            }
        }).ToArray();
        await Task.Delay(TimeSpan.FromSeconds(0.5));

        var terminatedAt = Stopwatch.GetTimestamp();
        await gateway.TerminateAsync();
        load.Phase = "terminating";
        var exited = await gateway.WaitForExitAsync(DefaultShutdownTimeout + TimeSpan.FromSeconds(20));
        var shutdownTook = Stopwatch.GetElapsedTime(terminatedAt);
        await load.StopAsync();
        var inFlightStatuses = await Task.WhenAll(inFlight);

        // The upstream is shared by this class's tests: only this run's ids count.
        var records = load.Records.ToList();
        var sent = records.Select(r => r.Id).ToHashSet(StringComparer.Ordinal);
        var run = new ShutdownRun(
            records,
            load.Summary(),
            inFlightStatuses,
            terminatedAt,
            shutdownTook,
            await vhost.TakeAllAsync(),
            AuditTestKit.ReadSpool(_spool),
            fixture.Upstream.Requests.Select(r => r.Headers.GetValueOrDefault(ClientLoad.IdHeader)).OfType<string>().Where(sent.Contains).ToHashSet(StringComparer.Ordinal));
        output.WriteLine($"{run.Summary}; exit after {shutdownTook.TotalSeconds:F1} s; {run.Published.Count} events published, {run.Spooled.Count} spooled");

        Assert.True(exited, $"still running {shutdownTook.TotalSeconds:F0} s after SIGTERM:\n{gateway.Output}");
        Assert.True(gateway.ExitCode == 0, $"exit code {gateway.ExitCode}:\n{gateway.Output}");
        return run;
    }

    /// <summary>
    /// Every answer a client got is a real one (never 5xx); the only failures are connections the closed listener
    /// never took; and a request the gateway took and forwarded is never lost on the way back.
    /// </summary>
    private static void AssertEveryAcceptedRequestAnswered(ShutdownRun run)
    {
        var answered = run.Records.Where(r => r.Failure == RequestFailure.None).ToList();
        var failed = run.Records.Where(r => r.Failure != RequestFailure.None).ToList();
        Assert.All(answered, r => Assert.True(r.Status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests or HttpStatusCode.Forbidden, $"{r.Phase} {r.Client}: {(int)r.Status!} ({run.Summary})"));
        Assert.All(failed, r =>
        {
            Assert.True(r.Failure is RequestFailure.Refused or RequestFailure.Closed, $"{r.Phase} {r.Client}: {r.Failure} {r.Error}");
            Assert.True(r.StartedAt + (r.Duration.Ticks * Stopwatch.Frequency / TimeSpan.TicksPerSecond) >= run.TerminatedAt, $"failed before SIGTERM: {r.Error}");
        });

        // The listener closed at once while the process lived on (draining): new connections were refused.
        Assert.Contains(failed, r => r.Failure == RequestFailure.Refused);
        Assert.True(answered.Count(r => r.Phase == "running") > 100, run.Summary);

        // The upstream saw exactly the requests whose 200 reached the client.
        var ok = answered.Where(r => r.Status == HttpStatusCode.OK).Select(r => r.Id).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(ok, run.Forwarded.Order(StringComparer.Ordinal).ToList());
    }

    /// <summary>The audit invariant: the counts published to RabbitMQ equal the 429s and 403s clients saw, none in the spool.</summary>
    private static void AssertEveryRefusalPublishedOnce(ShutdownRun run)
    {
        var tooMany = run.Records.Count(r => r.Status == HttpStatusCode.TooManyRequests);
        var forbidden = run.Records.Count(r => r.Status == HttpStatusCode.Forbidden);
        Assert.True(tooMany > 0 && forbidden > 0, run.Summary);

        var events = run.Published.Concat(run.Spooled).ToList();
        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(tooMany, AuditTestKit.SumOfCounts(events, AuditEventTypes.RateLimitExceeded));
        Assert.Equal(forbidden, AuditTestKit.SumOfCounts(events, AuditEventTypes.BanBlocked));

        // With the broker up, shutdown publishes: nothing is left in a spool that may not outlive the node.
        Assert.Empty(run.Spooled);
    }

    private sealed record ShutdownRun(
        List<LoadRecord> Records,
        string Summary,
        HttpStatusCode?[] InFlight,
        long TerminatedAt,
        TimeSpan ShutdownTook,
        List<AuditEventRecorded> Published,
        List<AuditEventRecorded> Spooled,
        HashSet<string> Forwarded);
}
