using System.Net;
using System.Text.Json.Nodes;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>Routes and clusters edited in the file of a running gateway (YARP's schema, the gateway's validation).</summary>
public sealed class ReloadedRoutesTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private static readonly TimeSpan Budget = TimeSpan.FromSeconds(5);

    private GatewayConfig Config() => new(fixture.Upstream.Address);

    private static JsonObject WithRoute(string id, string path, int authLimit = 1)
    {
        var json = ReloadingGateway.BaseJson(authLimit);
        json["ReverseProxy"]!["Routes"]![id] = new JsonObject
        {
            ["ClusterId"] = "app",
            ["Match"] = new JsonObject { ["Path"] = path + "/{**rest}" },
            ["RateLimiterPolicy"] = "auth",
        };
        return json;
    }

    private static JsonObject WithDestination(string address)
    {
        var json = ReloadingGateway.BaseJson(1000);
        json["ReverseProxy"]!["Clusters"] = new JsonObject
        {
            ["app"] = new JsonObject { ["Destinations"] = new JsonObject { ["d1"] = new JsonObject { ["Address"] = address } } },
        };
        return json;
    }

    [Fact]
    public async Task Route_AddedThenRemoved_IsServedThenGone()
    {
        await using var gateway = await ReloadingGateway.StartAsync(Config(), ReloadingGateway.BaseJson());
        using var client = gateway.Client("127.0.53.1");
        Assert.Equal(HttpStatusCode.NotFound, await client.GetStatusAsync("/fresh/x"));

        await gateway.EditAsync(WithRoute("fresh", "/fresh"));

        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(client, "/fresh/x", HttpStatusCode.OK, Budget));
        // The new route carries its policy: one admitted, then limited.
        Assert.Equal(HttpStatusCode.TooManyRequests, await client.GetStatusAsync("/fresh/x"));
        Assert.Contains(fixture.Upstream.Requests, r => r.Path == "/fresh/x");

        await gateway.EditAsync(ReloadingGateway.BaseJson());

        Assert.Equal(HttpStatusCode.NotFound, await Eventually.StatusAsync(client, "/fresh/x", HttpStatusCode.NotFound, Budget));
    }

    [Fact]
    public async Task ClusterDestination_Changed_SendsRequestsToTheNewUpstream()
    {
        await using var second = await UpstreamServer.StartAsync();
        var path = "/auth/" + Guid.NewGuid().ToString("N");
        await using var gateway = await ReloadingGateway.StartAsync(Config(), WithDestination(fixture.Upstream.Address));
        using var client = gateway.Client("127.0.53.2");
        Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync(path));
        Assert.Contains(fixture.Upstream.Requests, r => r.Path == path);
        Assert.DoesNotContain(second.Requests, r => r.Path == path);

        await gateway.EditAsync(WithDestination(second.Address));

        Assert.True(await Eventually.TrueAsync(
            async () => await client.GetStatusAsync(path) == HttpStatusCode.OK && second.Requests.Any(r => r.Path == path),
            Budget));
        var before = fixture.Upstream.Requests.Count(r => r.Path == path);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(HttpStatusCode.OK, await client.GetStatusAsync(path));
        }

        Assert.Equal(before, fixture.Upstream.Requests.Count(r => r.Path == path));
    }

    [Fact]
    public async Task RefusedEdit_LeavesItsRouteChangesOutToo()
    {
        await using var gateway = await ReloadingGateway.StartAsync(Config(), ReloadingGateway.BaseJson());
        var monitor = gateway.Server.Services.GetRequiredService<GatewaySettingsMonitor>();
        var refused = new TaskCompletionSource<IReadOnlyList<string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        monitor.Rejected += problems => refused.TrySetResult(problems);
        using var client = gateway.Client("127.0.53.3");

        // A new route and an invalid limit in one edit: the edit is refused as a whole, the route included.
        await gateway.EditAsync(WithRoute("fresh", "/fresh", authLimit: 0));
        var problems = await refused.Task.WaitAsync(Budget);
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:auth:PermitLimit", StringComparison.Ordinal));

        // The proxy hears of file changes on its own: give it as long to (wrongly) pick the route up as a good edit takes.
        Assert.False(await Eventually.TrueAsync(async () => await client.GetStatusAsync("/fresh/x") != HttpStatusCode.NotFound, TimeSpan.FromSeconds(2)));

        // Fixed, the same edit goes through.
        await gateway.EditAsync(WithRoute("fresh", "/fresh"));
        Assert.Equal(HttpStatusCode.OK, await Eventually.StatusAsync(client, "/fresh/x", HttpStatusCode.OK, Budget));
    }
}
