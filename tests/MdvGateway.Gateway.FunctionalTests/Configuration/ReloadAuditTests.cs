using System.Net;
using System.Text.Json.Nodes;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.FunctionalTests.Admin;
using MdvGateway.Gateway.FunctionalTests.Auditing;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>Reload outcomes as the gateway publishes them to the real RabbitMQ: what changed, why refused, no secret.</summary>
public sealed class ReloadAuditTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    private static JsonObject Json(int permitLimit, string adminKey, string[] allowlist)
    {
        var json = ReloadingGateway.BaseJson(permitLimit);
        json["IpBans"] = new JsonObject { ["Allowlist"] = new JsonArray([.. allowlist.Select(a => (JsonNode)a)]) };
        json["Admin"] = new JsonObject
        {
            ["ApiKeys"] = new JsonArray(new JsonObject
            {
                ["Name"] = "secops",
                ["Sha256"] = ApiKeyHash.Compute(adminKey),
                ["Roles"] = new JsonArray(AdminRoles.BansRead),
            }),
        };
        return json;
    }

    [Fact]
    public async Task Reloads_AreAuditedWithWhatChangedOrEveryProblem_AndNoSecret()
    {
        var oldKey = AdminKeys.NewKey();
        var newKey = AdminKeys.NewKey();
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var config = new GatewayConfig(fixture.Upstream.Address).WithAudit(_spool, RabbitMqTestBroker.Port, vhost.Name);
        var gateway = await ReloadingGateway.StartAsync(config, Json(1, oldKey, []));
        try
        {
            var monitor = gateway.Server.Services.GetRequiredService<GatewaySettingsMonitor>();
            var refused = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            monitor.Rejected += _ => refused.TrySetResult();
            using var admin = new AdminApi(gateway.Server, newKey);

            await gateway.EditAsync(Json(3, newKey, ["192.0.2.0/24"]));
            Assert.True(await Eventually.TrueAsync(
                async () =>
                {
                    using var response = await admin.GetAsync("/admin/bans");
                    return response.StatusCode == HttpStatusCode.OK;
                },
                Budget));

            // Three mistakes at once, one of them the key's hash pasted where the list of keys belongs.
            var bad = Json(0, newKey, ["192.0.2.0/24"]);
            bad["IpBans"]!["OnBreach"] = "Ban";
            bad["Admin"]!["ApiKeys"] = ApiKeyHash.Compute(newKey);
            await gateway.EditAsync(bad);
            await refused.Task.WaitAsync(Budget);
        }
        finally
        {
            // A graceful stop publishes what is queued.
            await gateway.DisposeAsync();
        }

        var events = await vhost.TakeAllAsync();

        var reloaded = events.Where(e => e.EventType == AuditEventTypes.ConfigReloaded).ToList();
        Assert.NotEmpty(reloaded);
        Assert.Equal(
            ["Admin", "IpBans", "RateLimiting"],
            reloaded.SelectMany(e => e.Details.GetProperty("changed").EnumerateArray().Select(s => s.GetString()!)).Distinct().Order(StringComparer.Ordinal));
        Assert.Equal(
            ["Admin:ApiKeys", "IpBans:Allowlist", "RateLimiting:Policies:auth:PermitLimit"],
            reloaded.SelectMany(e => e.Details.GetProperty("settings").EnumerateArray().Select(s => s.GetString()!)).Distinct().Order(StringComparer.Ordinal));

        var rejected = Assert.Single(events, e => e.EventType == AuditEventTypes.ConfigRejected);
        var problems = rejected.Details.GetProperty("problems").EnumerateArray().Select(p => p.GetString()!).ToList();
        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:auth:PermitLimit:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("IpBans:OnBreach:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Admin:ApiKeys:", StringComparison.Ordinal));
        Assert.All(events.Where(e => e.EventType.StartsWith("config.", StringComparison.Ordinal)), e => Assert.StartsWith("gateway:", e.Actor, StringComparison.Ordinal));

        var published = string.Join('\n', events.Select(e => e.Details.GetRawText()));
        foreach (var secret in new[] { oldKey, newKey, ApiKeyHash.Compute(oldKey), ApiKeyHash.Compute(newKey) })
        {
            Assert.DoesNotContain(secret, published, StringComparison.OrdinalIgnoreCase);
        }
    }
}
