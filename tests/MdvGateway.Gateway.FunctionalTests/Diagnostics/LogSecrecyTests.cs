using System.Net;
using System.Text.Json.Nodes;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.FunctionalTests.Admin;
using MdvGateway.Gateway.FunctionalTests.Auditing;
using MdvGateway.Gateway.FunctionalTests.Configuration;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.Diagnostics;

/// <summary>
/// A gateway configured with real secrets, logging everything down to Debug into a file, taken through the moments
/// where secrets are handled: start-up, admin calls with the right and a wrong key, a reload, a refused reload that
/// carries secrets in its mistakes, and a Redis it cannot reach. No line may contain any of them.
/// </summary>
[Collection(LogCapture.Name)]
public sealed class LogSecrecyTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);
    private readonly string _directory = Directory.CreateTempSubdirectory("mdv-secrecy-").FullName;
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    private readonly string _adminKey = AdminKeys.NewKey();
    private readonly string _rotatedKey = AdminKeys.NewKey();
    private readonly string _wrongKey = AdminKeys.NewKey();
    private readonly string _redisPassword = "redis-" + Guid.NewGuid().ToString("N");
    private readonly string _rabbitPassword = "rabbit-" + Guid.NewGuid().ToString("N");

    public void Dispose()
    {
        Directory.Delete(_directory, recursive: true);
        AuditTestKit.DeleteDirectory(_spool);
    }

    private string[] Secrets =>
        [_adminKey, ApiKeyHash.Compute(_adminKey), _rotatedKey, ApiKeyHash.Compute(_rotatedKey), _wrongKey, ApiKeyHash.Compute(_wrongKey), _redisPassword, _rabbitPassword];

    private GatewayConfig Logged(string logFile, string redis)
        => new GatewayConfig(fixture.Upstream.Address)
            .Set("Redis:Configuration", redis)
            .WithAudit(_spool, AuditTestKit.RefusingPort)
            .Set("Audit:RabbitMq:Password", _rabbitPassword)
            .Set("Serilog:MinimumLevel:Default", "Debug")
            .Set("Serilog:WriteTo:0:Name", "File")
            .Set("Serilog:WriteTo:0:Args:path", logFile)
            .Set("Serilog:WriteTo:0:Args:formatter", "Serilog.Formatting.Compact.RenderedCompactJsonFormatter, Serilog.Formatting.Compact");

    private static JsonObject Json(int permitLimit, params string[] keys)
    {
        var json = ReloadingGateway.BaseJson(permitLimit);
        json["Admin"] = new JsonObject
        {
            ["AuthFailureLimit"] = 1000,
            ["ApiKeys"] = new JsonArray([.. keys.Select((k, i) => (JsonNode)new JsonObject
            {
                ["Name"] = $"secops-{i}",
                ["Sha256"] = ApiKeyHash.Compute(k),
                ["Roles"] = new JsonArray(AdminRoles.BansRead),
            })]),
        };
        return json;
    }

    [Fact]
    public async Task Secrets_NeverAppearInAnyLogLine()
    {
        // The shared Redis has no password; a user of this test's own makes a real password necessary and accepted.
        var redisUser = "mdv-secrecy-" + Guid.NewGuid().ToString("N")[..8];
        await using var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await redis.GetDatabase().ExecuteAsync("ACL", "SETUSER", redisUser, "on", ">" + _redisPassword, "~*", "&*", "+@all");
        var mainLog = Path.Combine(_directory, "gateway.log");
        var unreachableLog = Path.Combine(_directory, "unreachable.log");
        try
        {
            await ExerciseAsync(Logged(mainLog, $"{TestEnvironment.Redis},user={redisUser},password={_redisPassword}"));
            await ExerciseUnreachableRedisAsync(Logged(unreachableLog, $"127.0.0.1:1,password={_redisPassword},connectTimeout=200"));
        }
        finally
        {
            await redis.GetDatabase().ExecuteAsync("ACL", "DELUSER", redisUser);
        }

        var lines = File.ReadAllLines(mainLog).Concat(File.ReadAllLines(unreachableLog)).ToList();

        // The moments really were logged (a capture that saw nothing would pass any secrecy check).
        Assert.Contains(lines, l => l.Contains("\"RequestPath\":\"/auth/x\"", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Admin authentication failed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Configuration reloaded", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("Configuration reload refused", StringComparison.Ordinal) && l.Contains("Admin:ApiKeys", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("\"Id\":2003", StringComparison.Ordinal) && l.Contains("Redis is not reachable", StringComparison.Ordinal));
        foreach (var secret in Secrets)
        {
            var leaks = lines.Where(l => l.Contains(secret, StringComparison.OrdinalIgnoreCase)).ToList();
            Assert.True(leaks.Count == 0, $"{leaks.Count} line(s) contain a secret, e.g. {leaks.FirstOrDefault()}");
        }
    }

    private async Task ExerciseAsync(GatewayConfig config)
    {
        var gateway = await ReloadingGateway.StartAsync(config, Json(1, _adminKey));
        try
        {
            using var client = gateway.Client("127.0.56.1");
            Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/x"));
            Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));

            using var admin = new AdminApi(gateway.Server, _adminKey);
            using (var response = await admin.GetAsync("/admin/bans"))
            {
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            using (var request = new HttpRequestMessage(HttpMethod.Get, "/admin/bans"))
            {
                request.Headers.Add(ApiKeyAuthenticationMiddleware.ApiKeyHeader, _adminKey);
                using var response = await admin.Http.SendAsync(request);
                Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            }

            using (var response = await admin.SendAsync(HttpMethod.Get, "/admin/bans", key: _wrongKey))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
            }

            // A reload that rotates the key.
            await gateway.EditAsync(Json(2, _adminKey, _rotatedKey));
            Assert.True(await Eventually.TrueAsync(
                async () =>
                {
                    using var response = await admin.SendAsync(HttpMethod.Get, "/admin/bans", key: _rotatedKey);
                    return response.StatusCode == HttpStatusCode.OK;
                },
                Budget));

            // A refused reload whose mistakes carry secrets: a hash pasted where the list of keys belongs, the broker's
            // password pasted into its host name, a Redis string with the password and an option that does not parse.
            var refused = new TaskCompletionSource<IReadOnlyList<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
            gateway.Server.Services.GetRequiredService<GatewaySettingsMonitor>().Rejected += problems => refused.TrySetResult(problems);
            var bad = Json(2, _adminKey);
            bad["Admin"]!["ApiKeys"] = ApiKeyHash.Compute(_rotatedKey);
            bad["Audit"] = new JsonObject { ["RabbitMq"] = new JsonObject { ["Host"] = $"guest:{_rabbitPassword}@127.0.0.1" } };
            bad["Redis"] = new JsonObject { ["Configuration"] = $"127.0.0.1:6379,password={_redisPassword},connectTimeout=soon" };
            await gateway.EditAsync(bad);
            var problems = await refused.Task.WaitAsync(Budget);
            Assert.Contains(problems, p => p.StartsWith("Admin:ApiKeys", StringComparison.Ordinal));
            Assert.Contains(problems, p => p.StartsWith("Audit:RabbitMq:Host", StringComparison.Ordinal));
            Assert.Contains(problems, p => p.StartsWith("Redis:Configuration", StringComparison.Ordinal));
        }
        finally
        {
            await gateway.DisposeAsync();
        }
    }

    private static async Task ExerciseUnreachableRedisAsync(GatewayConfig config)
    {
        config.Route("login", "/auth", "auth").Policy("auth", 1, "00:01:00");
        await using (var gateway = await GatewayServer.StartAsync(config.Values))
        {
            using var client = TestClients.From("127.0.56.2", gateway.Address);
            for (var i = 0; i < 3; i++)
            {
                var status = await client.GetStatusAsync("/auth/x");
                Assert.True(status is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, status.ToString());
            }
        }
    }
}
