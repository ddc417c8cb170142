using System.Text.Json;
using MdvGateway.Gateway.Auditing;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// <c>/health/ready</c> on the admin listener: 503 only while a check is unhealthy (the ban list not loaded yet);
/// 200 when every check is healthy or some are degraded (Redis or RabbitMQ away), because the gateway keeps serving
/// correctly then and taking it out of rotation would only move its load onto the other nodes.
/// </summary>
internal static class AdminHealthChecks
{
    private const string StateKey = "state";

    /// <summary>The readiness checks, reading the gateway's own singletons.</summary>
    /// <param name="services">The admin listener's services.</param>
    /// <param name="gatewayServices">The gateway's; the broker status is absent with <c>Audit:Enabled</c> false.</param>
    public static IServiceCollection AddAdminHealthChecks(this IServiceCollection services, IServiceProvider gatewayServices)
    {
        var broker = gatewayServices.GetService<IAuditBrokerStatus>();
        services.AddHealthChecks()
            .AddCheck<BanCacheHealthCheck>(BanCacheHealthCheck.Name)
            .AddCheck<RedisHealthCheck>(RedisHealthCheck.Name)
            .Add(new HealthCheckRegistration(AuditBrokerHealthCheck.Name, _ => new AuditBrokerHealthCheck(broker), failureStatus: null, tags: null));
        return services;
    }

    public static IEndpointConventionBuilder MapAdminHealthChecks(this IEndpointRouteBuilder endpoints)
        => endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions
        {
            ResultStatusCodes =
            {
                [HealthStatus.Healthy] = StatusCodes.Status200OK,
                [HealthStatus.Degraded] = StatusCodes.Status200OK,
                [HealthStatus.Unhealthy] = StatusCodes.Status503ServiceUnavailable,
            },
            ResponseWriter = WriteAsync,
        });

    /// <summary>The short word a check reports next to its name at the top level of the answer.</summary>
    internal static IReadOnlyDictionary<string, object> State(string state) => new Dictionary<string, object> { [StateKey] = state };

    /// <summary>
    /// <c>{"status":"degraded","banCache":"loaded","redis":"connected","rabbitmq":"spooling","activeBans":0,
    /// "checks":{"rabbitmq":{"status":"degraded","description":"unreachable since …"},…}}</c>: the top level keeps
    /// one word per check for scripts, <c>checks</c> says what each means.
    /// </summary>
    private static async Task WriteAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json";
        context.Response.Headers.CacheControl = "no-store";
        await using var json = new Utf8JsonWriter(context.Response.Body);
        json.WriteStartObject();
        json.WriteString("status", report.Status switch
        {
            HealthStatus.Healthy => "ready",
            HealthStatus.Degraded => "degraded",
            _ => "not-ready",
        });
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteString(name, entry.Data.TryGetValue(StateKey, out var state) ? state as string : Lower(entry.Status));
        }

        json.WriteNumber("activeBans", context.RequestServices.GetRequiredService<IpBans.BanCache>().Count);
        json.WriteStartObject("checks");
        foreach (var (name, entry) in report.Entries)
        {
            json.WriteStartObject(name);
            json.WriteString("status", Lower(entry.Status));
            json.WriteString("description", entry.Description);
            json.WriteEndObject();
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static string Lower(HealthStatus status) => status switch
    {
        HealthStatus.Healthy => "healthy",
        HealthStatus.Degraded => "degraded",
        _ => "unhealthy",
    };
}
