using System.Net;
using System.Text.Json;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>
/// A dependency outage is logged once by the gateway, not once per readiness probe: probes keep coming every few
/// seconds from every load balancer and kubelet for as long as the outage lasts.
/// </summary>
[Collection(LogCapture.Name)]
public sealed class HealthCheckLoggingTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mdv-log-").FullName;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    [Fact]
    public async Task RedisOutage_ProbedRepeatedly_IsLoggedByTheGateway_NotOnEveryProbe()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var path = Path.Combine(_directory, "gateway.log");
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "Disable")
            .Set("Redis:Configuration", redis.Endpoint)
            .WithFileLog(path);
        var gateway = await GatewayServer.StartAsync(config.Values);
        try
        {
            using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
            Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(admin, "/health/ready", HttpStatusCode.OK));
            await redis.KillAsync();

            // Five probes during the outage, each degraded but still 200 (the known bans stay enforced).
            Assert.True(await Eventually.TrueAsync(async () => await RedisStatusAsync(admin) == "degraded"), "readiness should report Redis degraded");
            for (var i = 0; i < 5; i++)
            {
                using var probe = await admin.GetAsync("/health/ready");
                Assert.Equal(HttpStatusCode.OK, probe.StatusCode);
            }
        }
        finally
        {
            // Stopping disposes the logger, which flushes the file.
            await gateway.DisposeAsync();
        }

        var lines = FileLog.Read(path);
        // Degraded checks (Warning) are never logged per probe. An unhealthy one (Error) still is: a probe that came
        // before the ban list's first load may have logged one, which is by design.
        Assert.DoesNotContain(lines, e => FileLog.SourceContext(e).StartsWith("Microsoft.Extensions.Diagnostics.HealthChecks", StringComparison.Ordinal)
                                          && e.TryGetProperty("@l", out var level) && level.GetString() != "Error");
        Assert.Contains(lines, e => FileLog.SourceContext(e) == "MdvGateway.Gateway.Redis.RedisConnection" && e.GetProperty("@l").GetString() == "Warning");
    }

    private static async Task<string?> RedisStatusAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("/health/ready");
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString();
    }
}
