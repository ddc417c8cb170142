using System.Net;
using System.Text.Json;
using MdvGateway.Gateway.FunctionalTests.Auditing;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Diagnostics;

/// <summary><c>/health/ready</c> on the admin listener: what each check says, and which of them take a node out of rotation.</summary>
public sealed class ReadinessTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    [Fact]
    public async Task Ready_BrokerCutAndRestored_IsDegradedWith200WhileSpooling_ThenReadyAgain_AndTheGaugeFollows()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        using var proxy = new SwitchableBrokerProxy(RabbitMqTestBroker.Port);
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("login", "/auth", "auth")
            .Policy("auth", 1, "00:01:00")
            .WithAudit(_spool, proxy.Port, vhost.Name)
            .Set("Audit:AggregationInterval", "00:00:00.2");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };
        using var client = TestClients.From("127.0.70.11", gateway.Address);

        // At start the publisher declares the queue through the proxy: connected.
        var (status, body) = await ReadyWhenAsync(admin, b => b.GetProperty("rabbitmq").GetString() == "connected");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("rabbitmq").GetProperty("status").GetString());
        Assert.Equal(1, BrokerGauge(await PrometheusText.ScrapeAsync(admin)));

        // Away: the next event cannot be published and goes to the spool; the node stays in rotation.
        proxy.Cut();
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/x"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));
        (status, body) = await ReadyWhenAsync(admin, b => b.GetProperty("rabbitmq").GetString() == "spooling", TimeSpan.FromSeconds(30));
        var rabbitmq = body.GetProperty("checks").GetProperty("rabbitmq");
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("degraded", body.GetProperty("status").GetString());
        Assert.Equal("degraded", rabbitmq.GetProperty("status").GetString());
        Assert.StartsWith("unreachable since ", rabbitmq.GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("redis").GetProperty("status").GetString());
        Assert.Equal("healthy", body.GetProperty("checks").GetProperty("banCache").GetProperty("status").GetString());
        Assert.DoesNotContain(RabbitMqTestBroker.Password, body.GetRawText(), StringComparison.Ordinal);
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(AuditTestKit.SpoolSegments(_spool).Length > 0)));
        Assert.Equal(0, BrokerGauge(await PrometheusText.ScrapeAsync(admin)));

        // Back: the publisher retries, replays the spool and reports connected again.
        proxy.Restore();
        (status, body) = await ReadyWhenAsync(admin, b => b.GetProperty("rabbitmq").GetString() == "connected", TimeSpan.FromSeconds(90));
        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("ready", body.GetProperty("status").GetString());
        Assert.Equal(1, BrokerGauge(await PrometheusText.ScrapeAsync(admin)));
    }

    [Fact]
    public async Task Ready_WithAuditDisabled_ReportsRabbitMqDisabledAndHealthy_AndNoBrokerGauge()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "Disable");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };

        var (status, body) = await ReadyWhenAsync(admin, b => b.GetProperty("status").GetString() == "ready");
        var metrics = await PrometheusText.ScrapeAsync(admin);

        Assert.Equal(HttpStatusCode.OK, status);
        Assert.Equal("disabled", body.GetProperty("rabbitmq").GetString());
        Assert.Equal("connected", body.GetProperty("redis").GetString());
        Assert.Equal("loaded", body.GetProperty("banCache").GetString());
        var checks = body.GetProperty("checks");
        Assert.Equal(["banCache", "rabbitmq", "redis"], checks.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        Assert.All(checks.EnumerateObject(), c => Assert.Equal("healthy", c.Value.GetProperty("status").GetString()));
        Assert.Contains("Audit:Enabled", checks.GetProperty("rabbitmq").GetProperty("description").GetString(), StringComparison.Ordinal);
        Assert.Empty(metrics.Find("mdv_gateway_audit_broker_connected"));
    }

    private static double BrokerGauge(PrometheusText metrics) => metrics.Find("mdv_gateway_audit_broker_connected").Single().Value;

    private static async Task<(HttpStatusCode Status, JsonElement Body)> ReadyWhenAsync(HttpClient admin, Func<JsonElement, bool> done, TimeSpan? within = null)
    {
        using var response = await Eventually.GetAsync(admin, "/health/ready", r =>
        {
            var text = r.Content.ReadAsStringAsync().GetAwaiter().GetResult();
            return done(JsonDocument.Parse(text).RootElement);
        }, within);
        var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.Clone();
        return (response.StatusCode, json);
    }
}
