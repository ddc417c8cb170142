using System.Collections.Concurrent;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>A real Kestrel upstream on a loopback port that records what reached it.</summary>
public sealed class UpstreamServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private UpstreamServer(WebApplication app) => _app = app;

    public ConcurrentQueue<RecordedRequest> Requests { get; } = new();

    public string Address => _app.Urls.First();

    public static async Task<UpstreamServer> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        var app = builder.Build();
        var server = new UpstreamServer(app);
        app.Run(async context =>
        {
            if (context.Request.Path.StartsWithSegments("/slow", StringComparison.Ordinal)
                || context.Request.Path.Value?.Contains("/slow/", StringComparison.Ordinal) == true)
            {
                await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted).ContinueWith(_ => { }, TaskScheduler.Default);
            }

            server.Requests.Enqueue(new RecordedRequest(
                context.Request.Path.Value ?? string.Empty,
                context.Request.Headers.ToDictionary(h => h.Key, h => h.Value.ToString(), StringComparer.OrdinalIgnoreCase)));
            context.Response.Headers["RateLimit"] = "\"upstream-says\";r=999;t=1";
            await context.Response.WriteAsync("upstream ok");
        });
        await app.StartAsync();
        return server;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}

public sealed record RecordedRequest(string Path, IReadOnlyDictionary<string, string> Headers);
