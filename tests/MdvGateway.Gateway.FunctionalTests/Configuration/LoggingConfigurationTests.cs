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
            .WithFileLog(path);
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
}
