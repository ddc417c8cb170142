using MdvGateway.Gateway.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>The real gateway on Kestrel (loopback, dynamic ports), configured only by what the test gives it.</summary>
public sealed class GatewayServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private GatewayServer(WebApplication app) => _app = app;

    public string Address => _app.Urls.First();

    public IServiceProvider Services => _app.Services;

    public string AdminAddress => _app.Services.GetRequiredService<AdminListener>().Addresses.First();

    public static async Task<GatewayServer> StartAsync(IDictionary<string, string?> configuration)
    {
        var app = GatewayApplication.Build([], builder =>
        {
            // Only what the test says: the gateway's own appsettings.json must not leak routes into tests.
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(configuration);
        });
        await app.StartAsync();
        return new GatewayServer(app);
    }

    /// <summary>
    /// A gateway whose configuration is <paramref name="configuration"/> plus the JSON file at
    /// <paramref name="jsonPath"/>, reloaded when the file changes (as <c>appsettings.json</c> is in production).
    /// </summary>
    public static async Task<GatewayServer> StartWithFileAsync(IDictionary<string, string?> configuration, string jsonPath)
    {
        var app = GatewayApplication.Build([], builder =>
        {
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(configuration);
            builder.Configuration.AddJsonFile(jsonPath, optional: false, reloadOnChange: true);
        });
        await app.StartAsync();
        return new GatewayServer(app);
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
