using System.Diagnostics;
using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

public sealed class AdminServiceTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    [Fact]
    public async Task OpenApi_IsServedWithoutAKeyAndDescribesEveryEndpoint()
    {
        await using var gateway = await AdminGateway.StartAsync(new GatewayConfig(fixture.Upstream.Address).Values);
        using var admin = new HttpClient { BaseAddress = new Uri(gateway.AdminAddress) };

        using var response = await admin.GetAsync("/admin/openapi.json");
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.StartsWith("3.", document.RootElement.GetProperty("openapi").GetString(), StringComparison.Ordinal);
        var paths = document.RootElement.GetProperty("paths");
        var expected = new Dictionary<string, string[]>
        {
            ["/admin/bans"] = ["get", "post"],
            ["/admin/bans/{target}"] = ["get", "patch", "delete"],
            ["/admin/bans/import"] = ["post"],
            ["/admin/offenders"] = ["get"],
            ["/admin/policies"] = ["get"],
            ["/admin/openapi.json"] = ["get"],
        };
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), paths.EnumerateObject().Select(p => p.Name).Order(StringComparer.Ordinal));
        foreach (var (path, methods) in expected)
        {
            foreach (var method in methods)
            {
                Assert.True(paths.GetProperty(path).TryGetProperty(method, out var operation), $"{method} {path}");
                Assert.True(operation.TryGetProperty("responses", out _));
            }
        }

        // Every $ref points at something that exists.
        var components = document.RootElement.GetProperty("components");
        foreach (var reference in Refs(document.RootElement))
        {
            var parts = reference.TrimStart('#', '/').Split('/');
            Assert.Equal("components", parts[0]);
            Assert.True(components.GetProperty(parts[1]).TryGetProperty(parts[2], out _), reference);
        }
    }

    [Fact]
    public async Task RedisUnavailable_AdminApiAnswers503Problem_HealthStillAnswers()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).WithAdminKeys().Set("Redis:Configuration", "127.0.0.1:1,connectTimeout=200");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, AdminKeys.All);

        using var list = await admin.GetAsync("/admin/bans");
        using var create = await admin.BanAsync("203.0.113.7");
        using var delete = await admin.DeleteAsync("/admin/bans/203.0.113.7");
        using var policies = await admin.GetAsync("/admin/policies");
        using var live = await admin.GetAsync("/health/live");

        foreach (var response in (HttpResponseMessage[])[list, create, delete])
        {
            await AdminApi.AssertProblemAsync(response, 503);
            Assert.NotNull(response.Headers.RetryAfter);
        }

        // Configuration needs no Redis.
        Assert.Equal(HttpStatusCode.OK, policies.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);

        // Bad input is still bad input, whatever the state of Redis.
        using var bad = await admin.BanAsync("not-an-ip");
        await AdminApi.AssertProblemAsync(bad, 400);
    }

    [Fact]
    public async Task HashKeyVerb_RunAsAProcess_PrintsTheSha256OfTheKey()
    {
        const string key = "k3y-with-enough-randomness-0123456789abcdef";
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));

        var (exit, output, _) = await RunGatewayAsync("hash-key", key);
        var (usageExit, usageOutput, usageError) = await RunGatewayAsync("hash-key");

        Assert.Equal(0, exit);
        Assert.Equal(expected, output.Trim());
        Assert.Equal(2, usageExit);
        Assert.Empty(usageOutput);
        Assert.Contains("usage", usageError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task HashKeyOutput_PastedIntoTheConfiguration_AuthenticatesTheKey()
    {
        var key = AdminKeys.NewKey();
        var (_, hash, _) = await RunGatewayAsync("hash-key", key);
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Set("Admin:ApiKeys:0:Name", "pasted")
            .Set("Admin:ApiKeys:0:Sha256", hash.Trim())
            .Set("Admin:ApiKeys:0:Roles:0", "bans:read");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var admin = new AdminApi(gateway, key);

        using var response = await admin.GetAsync("/admin/bans");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private static IEnumerable<string> Refs(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (property.Name == "$ref")
                    {
                        yield return property.Value.GetString()!;
                    }
                    else
                    {
                        foreach (var nested in Refs(property.Value))
                        {
                            yield return nested;
                        }
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    foreach (var nested in Refs(item))
                    {
                        yield return nested;
                    }
                }

                break;
        }
    }

    private static async Task<(int Exit, string Output, string Error)> RunGatewayAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "MdvGateway.Gateway.dll"));
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await output, await error);
    }
}
