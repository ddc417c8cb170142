using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>Serilog as operators configure it in <c>appsettings.json</c>: the optional file sink.</summary>
[Collection(LogCapture.Name)]
public sealed class LoggingConfigurationTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mdv-log-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task FileSink_FromConfiguration_ReceivesTheRequestLogAsCompactJson()
    {
        var path = Path.Combine(_directory, "gateway.log");
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("login", "/auth", "auth")
            .Policy("auth", 1, "00:01:00")
            .WithFileLog(path)
            // A refused request has no line of its own by default (it is in the refusal summary); this test wants both.
            .Set("RequestLog:LogRefusedRequests", "true");
        var gateway = await GatewayServer.StartAsync(config.Values);
        try
        {
            using var client = TestClients.From("127.0.55.1", gateway.Address);
            Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/logged"));
            Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/logged"));
        }
        finally
        {
            // Stopping disposes the logger, which flushes the file.
            await gateway.DisposeAsync();
        }

        var requests = FileLog.Read(path)
            .Where(e => FileLog.SourceContext(e) == "Serilog.AspNetCore.RequestLoggingMiddleware"
                        && e.GetProperty("RequestPath").GetString() == "/auth/logged")
            .ToList();
        Assert.Equal([200, 429], requests.Select(e => e.GetProperty("StatusCode").GetInt32()));
        Assert.All(requests, e =>
        {
            Assert.Equal("127.0.55.1", e.GetProperty("ClientIp").GetString());
            Assert.Equal("mdv-gateway", e.GetProperty("Service").GetString());
            Assert.Equal("GET", e.GetProperty("RequestMethod").GetString());
            Assert.Contains("/auth/logged\" responded", e.GetProperty("@m").GetString(), StringComparison.Ordinal);
        });
        Assert.Equal("Rejected", requests[1].GetProperty("LimitDecision").GetString());
    }

    [Fact]
    public async Task AClientThatGoesAwayBeforeItsAnswer_IsLoggedAs499_NotAsAnUpstreamFailureOrAnError()
    {
        var path = Path.Combine(_directory, "gone.log");
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "Disable")
            .WithFileLog(path);
        var requestPath = $"/api/slow/{config.KeyPrefix}";
        var gateway = await GatewayServer.StartAsync(config.Values);
        try
        {
            using var client = TestClients.From("127.0.55.2", gateway.Address);
            // A first request, so the one that matters is forwarded at once rather than after the route's first JIT.
            Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync($"/api/{config.KeyPrefix}/warm"));
            using (var giveUp = new CancellationTokenSource(TimeSpan.FromMilliseconds(1500)))
            {
                // The upstream takes 5 s; the client hangs up first, as wrk does at the end of a run.
                await Assert.ThrowsAnyAsync<OperationCanceledException>(() => client.GetAsync(requestPath, giveUp.Token));
            }

            // The gateway cancels its upstream call when the client goes; the upstream records the request then.
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(fixture.Upstream.Requests.Any(r => r.Path == requestPath))), "the upstream call was never cancelled");
        }
        finally
        {
            // Stopping waits for the request in flight, then disposes the logger, which flushes the file.
            await gateway.DisposeAsync();
        }

        var lines = FileLog.Read(path);
        var request = Assert.Single(lines, e => FileLog.SourceContext(e) == "Serilog.AspNetCore.RequestLoggingMiddleware"
                                               && e.GetProperty("RequestPath").GetString() == requestPath);
        Assert.Equal(499, request.GetProperty("StatusCode").GetInt32());
        Assert.False(request.TryGetProperty("@l", out _), "the request line should be at Information (compact JSON omits that level)");
        Assert.DoesNotContain(lines, e => e.TryGetProperty("EventId", out var eventId) && eventId.TryGetProperty("Id", out var id) && id.GetInt32() == 7001);
        Assert.DoesNotContain(lines, e => e.TryGetProperty("@l", out var level) && level.GetString() is "Error" or "Fatal");
    }
}
