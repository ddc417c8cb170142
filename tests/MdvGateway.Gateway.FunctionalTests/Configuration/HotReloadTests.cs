using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>Edits of the configuration file on a running gateway, written the ways editors and Kubernetes write them.</summary>
public sealed class HotReloadTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("mdv-reload-").FullName;

    private string ConfigPath => Path.Combine(_directory, "appsettings.json");

    private static string Json(int permitLimit, string routePolicy = "auth", string extraPolicy = "")
        => $$"""
           {
             "ReverseProxy": { "Routes": { "login": { "ClusterId": "app", "Match": { "Path": "/auth/{**rest}" }, "RateLimiterPolicy": "{{routePolicy}}" } } },
             "RateLimiting": { "Policies": { "auth": { "PermitLimit": {{permitLimit}}, "Window": "00:01:00" } {{extraPolicy}} } }
           }
           """;

    private async Task WriteInPlaceAsync(string json) => await File.WriteAllTextAsync(ConfigPath, json);

    /// <summary>How editors and ConfigMap updates replace a file: write a new one, rename it over the old.</summary>
    private async Task ReplaceByRenameAsync(string json)
    {
        var temporary = Path.Combine(_directory, $".appsettings.{Guid.NewGuid():N}.tmp");
        await File.WriteAllTextAsync(temporary, json);
        File.Move(temporary, ConfigPath, overwrite: true);
    }

    private async Task<(GatewayServer Gateway, HttpClient Client)> StartAsync(string clientAddress)
    {
        await WriteInPlaceAsync(Json(2));
        var config = new GatewayConfig(fixture.Upstream.Address);
        var gateway = await GatewayServer.StartWithFileAsync(config.Values, ConfigPath);
        var client = TestClients.From(clientAddress, gateway.Address);
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/x"));
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/x"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));
        return (gateway, client);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task RaisedLimit_AppliesToClientsAlreadyCounted_WithoutARestart(bool byRename)
    {
        var (gateway, client) = await StartAsync(byRename ? "127.0.40.1" : "127.0.40.2");
        await using var _ = gateway;
        using var __ = client;

        if (byRename)
        {
            await ReplaceByRenameAsync(Json(4));
        }
        else
        {
            await WriteInPlaceAsync(Json(4));
        }

        // The window already holds two requests; the new limit of four admits exactly two more.
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(client, "/auth/x", HttpStatusCode.OK, TimeSpan.FromSeconds(5)));
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync("/auth/x"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));
    }

    [Fact]
    public async Task InvalidEdit_IsRefused_AndTheLastGoodLimitStaysInForce()
    {
        var (gateway, client) = await StartAsync("127.0.40.3");
        await using var _ = gateway;
        using var __ = client;

        await WriteInPlaceAsync(Json(0));
        // Then a valid edit, so the test can tell when the watcher has caught up with both.
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));
        await WriteInPlaceAsync(Json(3));

        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(client, "/auth/x", HttpStatusCode.OK, TimeSpan.FromSeconds(5)));
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));
    }

    [Fact]
    public async Task RouteNamingAPolicyAddedAfterStart_IsRefusedAsAWhole()
    {
        var (gateway, client) = await StartAsync("127.0.40.4");
        await using var _ = gateway;
        using var __ = client;

        // The same edit raises "auth" and points the route at a new policy YARP cannot learn live: the edit must not
        // half apply (the raised limit without the route change), it is refused whole.
        await WriteInPlaceAsync(Json(100, routePolicy: "wide", extraPolicy: """, "wide": { "PermitLimit": 100, "Window": "00:01:00" }"""));
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/auth/x"));
    }

    public void Dispose() => Directory.Delete(_directory, recursive: true);
}
