using System.Net;
using System.Text.Json.Nodes;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>
/// A real gateway whose <c>appsettings.json</c> the test rewrites while it runs, alternately in place (an editor saving
/// over the file) and by rename (editors' safe save, Kubernetes ConfigMap updates), so every test that edits twice
/// exercises both. What the test keeps in <see cref="GatewayConfig"/> stays fixed; lists belong in the file only (the
/// file's list entries merge with, and cannot remove, entries given elsewhere).
/// </summary>
internal sealed class ReloadingGateway : IAsyncDisposable
{
    private readonly string _directory;
    private int _edits;

    private ReloadingGateway(string directory, GatewayServer server)
    {
        _directory = directory;
        Server = server;
    }

    public GatewayServer Server { get; }

    public string Address => Server.Address;

    public string AdminAddress => Server.AdminAddress;

    /// <summary>The file's settings as a test starts from: route <c>login</c> on <c>/auth</c> limited by policy <c>auth</c>.</summary>
    public static JsonObject BaseJson(int permitLimit = 1) => new()
    {
        ["ReverseProxy"] = new JsonObject
        {
            ["Routes"] = new JsonObject
            {
                ["login"] = new JsonObject { ["ClusterId"] = "app", ["Match"] = new JsonObject { ["Path"] = "/auth/{**rest}" }, ["RateLimiterPolicy"] = "auth" },
            },
        },
        ["RateLimiting"] = new JsonObject
        {
            ["Policies"] = new JsonObject { ["auth"] = new JsonObject { ["PermitLimit"] = permitLimit, ["Window"] = "00:01:00" } },
        },
    };

    /// <summary>Starts a gateway on <paramref name="json"/> plus <paramref name="config"/> and waits until it is ready.</summary>
    public static async Task<ReloadingGateway> StartAsync(GatewayConfig config, JsonObject json)
    {
        var directory = Directory.CreateTempSubdirectory("mdv-reload-").FullName;
        var path = Path.Combine(directory, "appsettings.json");
        await File.WriteAllTextAsync(path, json.ToJsonString());
        var server = await GatewayServer.StartWithFileAsync(config.Values, path);
        var gateway = new ReloadingGateway(directory, server);
        using var admin = new HttpClient { BaseAddress = new Uri(server.AdminAddress) };
        using var ready = await Eventually.GetAsync(admin, "/health/ready", r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        return gateway;
    }

    /// <summary>Rewrites the file with <paramref name="json"/>; edits alternate between in place and rename.</summary>
    public async Task EditAsync(JsonObject json)
    {
        var text = json.ToJsonString();
        var path = Path.Combine(_directory, "appsettings.json");
        if (_edits++ % 2 == 0)
        {
            await File.WriteAllTextAsync(path, text);
            return;
        }

        var temporary = Path.Combine(_directory, $".appsettings.{Guid.NewGuid():N}.tmp");
        await File.WriteAllTextAsync(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    public HttpClient Client(string localAddress) => TestClients.From(localAddress, Address);

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        Directory.Delete(_directory, recursive: true);
    }
}
