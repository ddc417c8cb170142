using System.Diagnostics.Metrics;
using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace MdvGateway.AuditConsumer.Diagnostics;

internal static class DiagnosticsExtensions
{
    /// <summary>Tag of the checks behind <c>/health/ready</c>.</summary>
    public const string ReadyTag = "ready";

    /// <summary>
    /// Serilog from the <c>Serilog</c> section (levels per namespace, sinks); compact JSON on the console when the
    /// section names no sink.
    /// </summary>
    public static WebApplicationBuilder AddAuditLogging(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        builder.Services.AddSerilog((services, logger) =>
        {
            // Per-probe health-check lines (a Warning for every degraded check on every probe) repeat what the
            // consumer logs once when a dependency goes and comes back; only unhealthy checks (Error) by default.
            logger.MinimumLevel.Override("Microsoft.Extensions.Diagnostics.HealthChecks", LogEventLevel.Error);
            logger.ReadFrom.Configuration(configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext()
                .Enrich.WithProperty("Service", "mdv-audit-consumer");
            if (!configuration.GetSection("Serilog:WriteTo").Exists())
            {
                logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
        });
        return builder;
    }

    /// <summary>The consumer's metrics (<see cref="AuditMetrics"/>, MassTransit's, the runtime's) exported for
    /// Prometheus, and the health-check service.</summary>
    /// <remarks>
    /// Meters are observed process-wide; one created by another container's <see cref="IMeterFactory"/> (a second host
    /// in the same process, as in tests) would be folded into this one's series, since OpenTelemetry tells metric
    /// streams apart by meter and instrument name, not by factory. A view keeps this container's meters and those
    /// created without a factory (MassTransit's, the runtime's).
    /// </remarks>
    public static IServiceCollection AddAuditDiagnostics(this IServiceCollection services)
    {
        services.AddMetrics();
        services.TryAddSingleton<AuditMetrics>();
        services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("mdv-audit-consumer"))
            .WithMetrics(metrics => metrics
            .AddMeter(AuditMetrics.MeterName, "MassTransit", "System.Runtime")
            .AddPrometheusExporter());
        services.ConfigureOpenTelemetryMeterProvider(static (provider, metrics) =>
        {
            var own = provider.GetRequiredService<IMeterFactory>();
            metrics.AddView(instrument => instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, own) ? null : MetricStreamConfiguration.Drop);
        });
        services.AddHealthChecks();
        return services;
    }

    /// <summary><c>/health/live</c>, <c>/health/ready</c> (PostgreSQL reachable, schema migrated, broker connected;
    /// 503 with the reason otherwise) and <c>/metrics</c>.</summary>
    public static WebApplication MapAuditDiagnostics(this WebApplication app)
    {
        app.MapGet("/health/live", static () => Results.Ok(new { status = "live" }));
        app.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            Predicate = static registration => registration.Tags.Contains(ReadyTag),
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status503ServiceUnavailable,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteReadinessAsync,
        });
        app.MapPrometheusScrapingEndpoint("/metrics");
        return app;
    }

    /// <summary><c>{"status":"ready","postgres":"connected","schema":"…","rabbitmq":"connected"}</c>: one member per
    /// check, its description when it is not healthy.</summary>
    private static async Task WriteReadinessAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status == HealthStatus.Healthy ? "ready" : "not-ready");
        foreach (var (name, entry) in report.Entries)
        {
            var text = entry.Status == HealthStatus.Healthy && entry.Description is null or "Ready" ? "connected" : entry.Description ?? entry.Status.ToString();
            json.WriteString(name, text);
        }

        json.WriteEndObject();
    }
}
