using System.Diagnostics.Metrics;
using MdvGateway.Gateway.Diagnostics;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Redis;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The admin listener is a second Kestrel server in the same process, with its own pipeline. Nothing admin-only is
/// ever mapped on the public server, so no routing mistake can expose it there, and the public <c>--urls</c> keep
/// working the standard way.
/// </summary>
internal sealed partial class AdminListener : IHostedService, IAsyncDisposable
{
    private readonly IServiceProvider _gatewayServices;
    private readonly ILogger<AdminListener> _logger;
    private WebApplication? _app;

    public AdminListener(IServiceProvider gatewayServices, ILogger<AdminListener> logger)
    {
        _gatewayServices = gatewayServices;
        _logger = logger;
    }

    /// <summary>The addresses the admin server bound (useful when configured with port 0).</summary>
    public IReadOnlyCollection<string> Addresses
        => _app?.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()?.Addresses.ToList() ?? [];

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var configuration = _gatewayServices.GetRequiredService<IConfiguration>();
        var urls = AdminOptionsValidator.SplitUrls(configuration.GetSection(AdminOptions.SectionName).Get<AdminOptions>()?.Urls ?? new AdminOptions().Urls);
        if (urls.Length == 0)
        {
            Log.Disabled(_logger);
            return;
        }

        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(urls);
        Serilog.SerilogServiceCollectionExtensions.AddSerilog(builder.Services, _gatewayServices.GetRequiredService<Serilog.ILogger>());
        builder.Services.AddSingleton(_gatewayServices.GetRequiredService<GatewaySettingsMonitor>());
        builder.Services.AddSingleton(_gatewayServices.GetRequiredService<RedisConnection>());
        builder.Services.AddSingleton(_gatewayServices.GetRequiredService<IpBans.BanCache>());
        builder.Services.AddSingleton(_gatewayServices.GetRequiredService<IpBans.IBanStore>());
        builder.Services.AddSingleton(_gatewayServices.GetRequiredService<TimeProvider>());
        builder.Services.AddSingleton(_gatewayServices.GetRequiredService<Diagnostics.GatewayMetrics>());

        // The gateway's own sink (or NullAuditSink with Audit:Enabled false): one queue, one aggregator, one publisher.
        builder.Services.AddSingleton(_gatewayServices.GetRequiredService<Auditing.IAuditSink>());
        builder.Services.AddSingleton<AdminAudit>();
        builder.Services.AddSingleton<IFailedAuthenticationStore, RedisFailedAuthenticationStore>();
        builder.Services.AddSingleton<LocalFailureTable>();
        builder.Services.AddSingleton<FailedAuthenticationLimiter>();
        builder.Services.AddSingleton<StoreConnection>();
        builder.Services.AddSingleton<BanAdministration>();
        builder.Services.AddSingleton<AdminInformation>();
        builder.Services.AddAdminHealthChecks(_gatewayServices);
        AddPrometheusMetrics(builder.Services, _gatewayServices.GetRequiredService<IMeterFactory>());
        var app = builder.Build();

        // Errors first (so every refusal is problem+json), then routing, then keys: authentication needs to know the
        // endpoint's role, and must run before any handler reads the body.
        app.UseMiddleware<AdminErrorMiddleware>();
        app.UseStatusCodePages(static context => AdminProblems.ForEmptyStatus(context.HttpContext));
        app.UseRouting();
        app.UseMiddleware<ApiKeyAuthenticationMiddleware>();
        app.MapPrometheusScrapingEndpoint("/metrics");
        app.MapGet("/health/live", static () => Results.Ok(new { status = "live" }));
        app.MapAdminHealthChecks();
        app.MapAdminApi();
        await app.StartAsync(cancellationToken);
        _app = app;
        if (_logger.IsEnabled(LogLevel.Information))
        {
            var addresses = string.Join(", ", Addresses);
            Log.Listening(_logger, addresses);
        }
    }

    /// <summary>
    /// Prometheus text on the admin listener: the gateway's own instruments (<c>mdv.gateway.*</c>), the public server's
    /// ASP.NET Core and Kestrel meters, the outgoing HTTP client's (YARP's calls to upstreams) and the runtime's.
    /// </summary>
    /// <remarks>
    /// Meters are observed process-wide, and the admin server publishes ASP.NET Core's and Kestrel's meters under the
    /// same names as the public one. OpenTelemetry identifies a metric stream by meter name and version and instrument
    /// name, unit and description (not by the meter's tags), so both servers' instruments would be folded into one
    /// series: <c>http_server_request_duration_seconds</c> would count every scrape of this endpoint as gateway
    /// traffic. Every meter the platform creates through an <see cref="IMeterFactory"/> carries that factory as its
    /// <see cref="Meter.Scope"/>, so a view keeps only the instruments of the gateway's own container (and of meters
    /// created without a factory, such as <c>System.Net.Http</c>'s and the runtime's, which exist once per process).
    /// YARP 2.3 publishes no <c>System.Diagnostics.Metrics</c> meter (only EventCounters); its upstream calls show in
    /// <c>System.Net.Http</c>'s <c>http.client.*</c> instruments and its routes in <c>http.server.*</c>'s
    /// <c>http_route</c>.
    /// </remarks>
    private static void AddPrometheusMetrics(IServiceCollection services, IMeterFactory gatewayMeters)
        => services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("mdv-gateway"))
            .WithMetrics(metrics => metrics
                .AddMeter(Diagnostics.GatewayMetrics.MeterName)
                .AddMeter(GatewayMeters.PlatformMeterNames)
                .AddView(instrument => GatewayMeters.IsGatewayInstrument(instrument, gatewayMeters) ? null : MetricStreamConfiguration.Drop)
                .AddPrometheusExporter());

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 5001, Level = LogLevel.Information, Message = "Admin listener on {Addresses}")]
        public static partial void Listening(ILogger logger, string addresses);

        [LoggerMessage(EventId = 5002, Level = LogLevel.Warning, Message = "Admin:Urls is empty; the admin listener is off")]
        public static partial void Disabled(ILogger logger);
    }
}
