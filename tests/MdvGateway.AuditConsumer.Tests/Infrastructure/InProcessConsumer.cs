using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>The consumer host built in the test process, for tests that read its metrics.</summary>
public sealed class InProcessConsumer : IAsyncDisposable
{
    private InProcessConsumer(WebApplication app) => App = app;

    public WebApplication App { get; }

    public IServiceProvider Services => App.Services;

    public static async Task<InProcessConsumer> StartAsync(string[] args)
    {
        var app = AuditConsumerApplication.Build([.. args, "--Urls=http://127.0.0.1:0"]);
        await app.StartAsync();
        var consumer = new InProcessConsumer(app);
        var health = app.Services.GetRequiredService<HealthCheckService>();
        HealthReport? last = null;
        await Eventually.TrueAsync(
            async () => (last = await health.CheckHealthAsync(r => r.Tags.Contains("ready"))).Status == HealthStatus.Healthy,
            TimeSpan.FromSeconds(30), "the in-process consumer to become ready",
            () => Task.FromResult(string.Join("; ", last?.Entries.Select(e => $"{e.Key}={e.Value.Status}:{e.Value.Description}") ?? [])));
        return consumer;
    }

    public async ValueTask DisposeAsync()
    {
        await App.StopAsync();
        await App.DisposeAsync();
    }
}
