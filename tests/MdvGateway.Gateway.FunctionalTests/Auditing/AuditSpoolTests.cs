using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

/// <summary>The broker away, the spool, restarts and the spool directory's lock, with the real gateway.</summary>
public sealed class AuditSpoolTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly UpstreamServer _upstream = fixture.Upstream;
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    private GatewayConfig Config(int brokerPort, string virtualHost = "/")
        => new GatewayConfig(_upstream.Address)
            .Route("login", "/auth", "auth")
            .Policy("auth", 5, "00:01:00")
            .WithAudit(_spool, brokerPort, virtualHost);

    [Fact]
    public async Task BrokerSilent_RequestBurstIncludingRejections_CompletesNormally_AndTheSpoolGetsEveryEvent()
    {
        // Accepts connections and never answers: the case where a publish on the request path would hang.
        using var broker = new SilentBroker();
        var gateway = await GatewayServer.StartAsync(Config(broker.Port).Set("Audit:AggregationInterval", "00:00:00.2").Values);
        HttpStatusCode[][] statuses;
        try
        {
            statuses = await Task.WhenAll(Enumerable.Range(1, 4).Select(async i =>
            {
                using var client = TestClients.From($"127.0.43.{i}", gateway.Address);
                return await AuditTestKit.BurstAsync(client, "/auth/x", 100);
            }));
            Assert.True(broker.Connections > 0);
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        var all = statuses.SelectMany(s => s).ToList();
        Assert.Equal(400, all.Count);
        Assert.Equal(20, all.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(380, all.Count(s => s == HttpStatusCode.TooManyRequests));
        var spooled = AuditTestKit.ReadSpool(_spool);
        Assert.Equal(380, AuditTestKit.SumOfCounts(spooled, AuditEventTypes.RateLimitExceeded));
        for (var i = 1; i <= 4; i++)
        {
            Assert.Equal(95, AuditTestKit.SumOfCounts(spooled, AuditEventTypes.RateLimitExceeded, $"127.0.43.{i}"));
        }
    }

    [Fact]
    public async Task BrokerUnreachable_EventsAreSpooled_StopAndRestartWithTheBroker_ReplaysEachEventExactlyOnce()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var first = await GatewayServer.StartAsync(Config(AuditTestKit.RefusingPort, vhost.Name).Set("Audit:AggregationInterval", "00:00:00.2").Values);
        var rejected = 0;
        try
        {
            for (var round = 0; round < 3; round++)
            {
                using var client = TestClients.From($"127.0.44.{round + 1}", first.Address);
                rejected += (await AuditTestKit.BurstAsync(client, "/auth/x", 30)).Count(s => s == HttpStatusCode.TooManyRequests);
            }
        }
        finally
        {
            await first.DisposeAsync();
        }

        var spooled = AuditTestKit.ReadSpool(_spool);
        Assert.Equal(75, rejected);
        Assert.Equal(rejected, AuditTestKit.SumOfCounts(spooled, AuditEventTypes.RateLimitExceeded));
        Assert.NotEmpty(AuditTestKit.SpoolSegments(_spool));
        Assert.Null(await vhost.MessageCountAsync("audit-events"));

        var second = await GatewayServer.StartAsync(Config(RabbitMqTestBroker.Port, vhost.Name).Values);
        try
        {
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(AuditTestKit.SpoolSegments(_spool).Length == 0), TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await second.DisposeAsync();
        }

        var published = await vhost.TakeAllAsync();
        Assert.Equal(spooled.Select(e => e.EventId).Order(), published.Select(e => e.EventId).Order());
        Assert.Equal(rejected, AuditTestKit.SumOfCounts(published, AuditEventTypes.RateLimitExceeded));
        Assert.Empty(AuditTestKit.SpoolSegments(_spool));
    }

    [Fact]
    public async Task QueueOverflow_GoesToTheSpool_AndIsStillDeliveredExactlyOnce()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        // One slot in memory, and every client's aggregate produced at once (at the shutdown flush).
        var config = Config(RabbitMqTestBroker.Port, vhost.Name).Set("Audit:QueueCapacity", "1").Set("Audit:AggregationInterval", "00:10:00");
        var first = await GatewayServer.StartAsync(config.Values);
        using var spooled = new MetricCollector<long>(first.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "mdv.gateway.audit.spooled");
        var rejected = 0;
        try
        {
            await Task.WhenAll(Enumerable.Range(1, 12).Select(async i =>
            {
                using var client = TestClients.From($"127.0.45.{i}", first.Address);
                Interlocked.Add(ref rejected, (await AuditTestKit.BurstAsync(client, "/auth/x", 8)).Count(s => s == HttpStatusCode.TooManyRequests));
            }));
        }
        finally
        {
            await first.DisposeAsync();
        }

        var overflowed = spooled.GetMeasurementSnapshot().Where(m => Equals(m.Tags["reason"], "queue_full")).Sum(m => m.Value);
        Assert.Equal(11, overflowed);
        Assert.Equal(11, AuditTestKit.ReadSpool(_spool).Count);

        var second = await GatewayServer.StartAsync(Config(RabbitMqTestBroker.Port, vhost.Name).Values);
        try
        {
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(AuditTestKit.SpoolSegments(_spool).Length == 0), TimeSpan.FromSeconds(30)));
        }
        finally
        {
            await second.DisposeAsync();
        }

        var published = await vhost.TakeAllAsync();
        Assert.Equal(36, rejected);
        Assert.Equal(12, published.Count);
        Assert.Equal(12, published.Select(e => e.EventId).Distinct().Count());
        Assert.Equal(rejected, AuditTestKit.SumOfCounts(published, AuditEventTypes.RateLimitExceeded));
    }

    [Fact]
    public async Task SecondGateway_OnTheSameSpoolDirectory_RefusesToStart_NamingTheDirectory()
    {
        var first = await GatewayServer.StartAsync(Config(AuditTestKit.RefusingPort).Values);
        try
        {
            var error = await Assert.ThrowsAsync<GatewayConfigurationException>(() => GatewayServer.StartAsync(Config(AuditTestKit.RefusingPort).Values));

            var problem = Assert.Single(error.Problems);
            Assert.StartsWith("Audit:SpoolDirectory:", problem, StringComparison.Ordinal);
            Assert.Contains(_spool, problem, StringComparison.Ordinal);
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Released with the first gateway: the directory can be used again.
        var third = await GatewayServer.StartAsync(Config(AuditTestKit.RefusingPort).Values);
        await third.DisposeAsync();
    }

    [Fact]
    public async Task SecondGatewayProcess_OnALockedSpoolDirectory_ExitsNonZeroNamingTheDirectory()
    {
        var first = await GatewayServer.StartAsync(Config(AuditTestKit.RefusingPort).Values);
        try
        {
            var (exit, stdout, stderr) = await RunGatewayProcessAsync(
                "--urls", "http://127.0.0.1:0", "--Admin:Urls", "http://127.0.0.1:0",
                "--Redis:Configuration", TestEnvironment.Redis,
                "--Audit:SpoolDirectory", _spool, "--Audit:RabbitMq:Port", "1");

            Assert.Equal(2, exit);
            Assert.Contains("Audit:SpoolDirectory", stderr, StringComparison.Ordinal);
            Assert.Contains(_spool, stderr, StringComparison.Ordinal);
            Assert.Contains("another gateway process", stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("Now listening", stdout, StringComparison.Ordinal);
        }
        finally
        {
            await first.DisposeAsync();
        }
    }

    [Fact]
    public async Task GatewayProcess_WithTheBrokerAway_LogsItWithoutThePassword()
    {
        var password = "pw-" + Guid.NewGuid().ToString("N");
        var port = LocalPorts.Free();
        // The shipped appsettings.json: its "auth" policy admits 5 requests a minute, so the 6th is a rejection to audit.
        var start = GatewayProcess(
            "--urls", $"http://127.0.0.1:{port}", "--Admin:Urls", "http://127.0.0.1:0",
            "--Redis:Configuration", TestEnvironment.Redis, "--Redis:KeyPrefix", "test-" + Guid.NewGuid().ToString("N")[..12],
            "--Audit:SpoolDirectory", _spool, "--Audit:RabbitMq:Port", "1", "--Audit:RabbitMq:Password", password,
            "--Audit:PublishTimeout", "00:00:01");
        using var process = Process.Start(start)!;
        var output = new System.Text.StringBuilder();
        var sawBrokerAway = new TaskCompletionSource();
        void Collect(string? line)
        {
            lock (output)
            {
                output.AppendLine(line);
            }

            if (line?.Contains("is unavailable for audit events", StringComparison.Ordinal) == true)
            {
                sawBrokerAway.TrySetResult();
            }
        }

        process.OutputDataReceived += (_, e) => Collect(e.Data);
        process.ErrorDataReceived += (_, e) => Collect(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}") };
            Assert.True(await Eventually.TrueAsync(async () =>
            {
                try
                {
                    using var response = await client.GetAsync("/public/ready");
                    return true;
                }
                catch (HttpRequestException)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(30)), "the gateway did not start listening");
            var statuses = await AuditTestKit.BurstAsync(client, "/auth/x", 6);
            Assert.Contains(HttpStatusCode.TooManyRequests, statuses);
            await sawBrokerAway.Task.WaitAsync(TimeSpan.FromSeconds(30));
        }
        finally
        {
            // SIGTERM: the graceful shutdown an orchestrator asks for.
            using (var kill = Process.Start("kill", ["-TERM", process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
            {
                await kill.WaitForExitAsync();
            }

            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await process.WaitForExitAsync(timeout.Token);
        }

        string log;
        lock (output)
        {
            log = output.ToString();
        }

        // The broker-away warning (event id 6002) names the broker, never the password.
        Assert.Contains("\"EventId\":{\"Id\":6002", log, StringComparison.Ordinal);
        Assert.Contains("\"Port\":1,", log, StringComparison.Ordinal);
        Assert.DoesNotContain(password, log, StringComparison.Ordinal);
        Assert.Equal(0, process.ExitCode);
        // Stopped gracefully with the broker away: the rejection is in the spool for the next start.
        Assert.True(AuditTestKit.SumOfCounts(AuditTestKit.ReadSpool(_spool), AuditEventTypes.RateLimitExceeded) >= 1);
    }


    private static ProcessStartInfo GatewayProcess(params string[] args)
    {
        var dll = Path.Combine(TestEnvironment.RepositoryRoot, "gateway", "MdvGateway.Gateway", "bin", TestEnvironment.BuildConfiguration, "net10.0", "MdvGateway.Gateway.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add(dll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        return start;
    }

    private static async Task<(int Exit, string Stdout, string Stderr)> RunGatewayProcessAsync(params string[] args)
    {
        using var process = Process.Start(GatewayProcess(args))!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }
}
