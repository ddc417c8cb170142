using MdvGateway.Gateway.ClientIdentity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace MdvGateway.Gateway.Diagnostics;

internal static class DiagnosticsExtensions
{
    public static IServiceCollection AddGatewayDiagnostics(this IServiceCollection services, RequestLogOptions requestLog)
    {
        services.AddMetrics();
        services.TryAddSingleton<GatewayMetrics>();
        services.TryAddSingleton(sp =>
        {
            var refusals = new RefusalLog(requestLog, sp.GetRequiredService<ILogger<RefusalLog>>(), sp.GetRequiredService<TimeProvider>());
            sp.GetRequiredService<GatewayMetrics>().ObserveRefusalClients(() => refusals.TrackedClients);
            return refusals;
        });
        return services;
    }

    /// <summary>
    /// Serilog from the <c>Serilog</c> section (levels per namespace, sinks); compact JSON on the console when the
    /// section names no sink. The logger belongs to this gateway's container, not to the static <c>Log.Logger</c>:
    /// the admin listener and the request log are handed it explicitly, so two gateways in one process (tests) never
    /// write through each other's logger, and stopping one does not silence the other.
    /// </summary>
    public static WebApplicationBuilder AddGatewayLogging(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddSerilog((services, logger) =>
        {
            // The health-check service logs every degraded check at Warning on every probe: a Redis or broker outage
            // would repeat the same line every few seconds per node. The gateway logs those outages once, when they
            // start and end (2001/2002, 6002/6003), so by default only unhealthy checks (Error) get through. The
            // Serilog section can still lower it.
            logger.MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Error);
            logger.ReadFrom.Configuration(configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                .Enrich.WithProperty("Service", "mdv-gateway");
            if (!configuration.GetSection("Serilog:WriteTo").Exists())
            {
                logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
        }, preserveStaticLogger: true);
        return builder;
    }

    /// <summary>
    /// One structured line per admitted request: client, route, status, limit decision. A refused or unrouted request
    /// is counted by <see cref="RefusalLog"/> instead and gets no line of its own (unless
    /// <c>RequestLog:LogRefusedRequests</c>): its level is then Verbose, below any level the gateway is run at.
    /// </summary>
    public static IApplicationBuilder UseGatewayRequestLogging(this IApplicationBuilder app)
        => app.UseSerilogRequestLogging(options =>
        {
            options.Logger = app.ApplicationServices.GetRequiredService<Serilog.ILogger>();
            options.MessageTemplate = "{RequestMethod} {RequestPath} responded {StatusCode} in {Elapsed:0.0} ms";
            var refusals = app.ApplicationServices.GetRequiredService<RefusalLog>();
            var keepRefused = refusals.LogRefusedRequests;
            options.GetLevel = (context, _, exception) =>
                exception is not null ? LogEventLevel.Error
                : !keepRefused && RefusalLog.IsRefusal(context) ? LogEventLevel.Verbose
                : context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : LogEventLevel.Information;
            options.EnrichDiagnosticContext = static (diagnostics, context) =>
            {
                diagnostics.Set("ClientIp", context.GetClientIdentity().Address.ToString());
                if (context.GetEndpoint() is { } endpoint)
                {
                    diagnostics.Set("RouteId", endpoint.DisplayName);
                }
            };
        });

    /// <summary>
    /// Answers a request no route matched with 404, as the framework would, and counts it as a refusal (reason
    /// <c>unrouted</c>): a path scanner's requests are summarised, not logged one by one.
    /// </summary>
    public static IApplicationBuilder UseUnroutedRequestCounting(this IApplicationBuilder app)
    {
        var refusals = app.ApplicationServices.GetRequiredService<RefusalLog>();
        return app.Use((context, next) =>
        {
            if (context.GetEndpoint() is not null)
            {
                return next(context);
            }

            refusals.Record(context, context.GetClientIdentity().Key, RefusalReasons.Unrouted);
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
    }
}
