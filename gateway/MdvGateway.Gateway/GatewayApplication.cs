using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.Hosting;
using MdvGateway.Gateway.IpBans;
using MdvGateway.Gateway.Proxy;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway;

/// <summary>The gateway host, one line per feature. <c>Program</c> runs it; functional tests build it directly.</summary>
public static class GatewayApplication
{
    /// <summary>The public listener's default when neither <c>--urls</c> nor <c>ASPNETCORE_URLS</c> is given.</summary>
    public const string DefaultPublicUrls = "http://127.0.0.1:8080";

    /// <exception cref="GatewayConfigurationException">Configuration is invalid; the message lists every problem.</exception>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        var builder = WebApplication.CreateBuilder(args);
        configure?.Invoke(builder);
        if (string.IsNullOrEmpty(builder.Configuration[WebHostDefaults.ServerUrlsKey]))
        {
            builder.WebHost.UseUrls(DefaultPublicUrls);
        }

        var settings = GatewaySettings.TryLoad(builder.Configuration, out var problems)
                       ?? throw new GatewayConfigurationException(problems);
        var proxy = new AcceptedProxyConfiguration(builder.Configuration);

        // After the framework's own binding of the Kestrel section: the validated limits, with the gateway's defaults.
        builder.WebHost.ConfigureKestrel(kestrel => settings.Listener.ApplyTo(kestrel.Limits));

        builder.AddGatewayLogging();
        builder.Services.AddGatewayRequestTimeouts(settings.RequestTimeouts);
        builder.Services
            .AddGatewaySettings(settings, proxy)
            .AddGatewayDiagnostics(settings.RequestLog)
            .AddAuditing(settings.Audit, builder.Environment.ContentRootPath)
            .AddGatewayRedis()
            .AddDistributedRateLimiting(builder.Configuration)
            .AddIpBans()
            .AddGatewayProxy(proxy.View)
            .AddAdminListener();

        // Graceful shutdown (SIGTERM): WebApplication registers the web server last, so it stops first — the listener
        // closes and in-flight requests drain for up to HostOptions.ShutdownTimeout — and only then, one by one in
        // reverse order, the other services, the audit publisher among them, whose flush must see every count those
        // requests made (see AuditPublisher.Shutdown.cs for its own budget). Stopping services concurrently would race
        // that flush against the drain, so it stays off whatever the host configuration says.
        builder.Services.PostConfigure<HostOptions>(host => host.ServicesStopConcurrently = false);

        var app = builder.Build();
        app.UseGatewayRequestLogging();
        app.UseClientIdentity();
        app.UseIpBans();
        app.UseRequestTimeouts();
        app.UseUnroutedRequestCounting();
        app.MapReverseProxy(proxy =>
        {
            proxy.UseMiddleware<RequestBodyLimitMiddleware>();
            proxy.UseMiddleware<UpstreamErrorMiddleware>();
            proxy.UseDistributedRateLimiting();
            proxy.UseSessionAffinity();
            proxy.UseLoadBalancing();
            proxy.UsePassiveHealthChecks();
        });
        return app;
    }
}
