using System.Globalization;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.Proxy;
using Serilog;

namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// Refuses banned clients on every public request, routed or not, from the local ban cache: no Redis round trip,
/// no upstream call.
/// </summary>
internal sealed class BanEnforcementMiddleware
{
    public const string BannedType = "urn:mdvgateway:problem:banned";

    private readonly RequestDelegate _next;
    private readonly BanCache _cache;
    private readonly GatewaySettingsMonitor _settings;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly IDiagnosticContext _diagnostics;
    private readonly RefusalLog _refusals;
    private readonly IAuditSink _audit;

    public BanEnforcementMiddleware(RequestDelegate next, BanCache cache, GatewaySettingsMonitor settings, TimeProvider time, GatewayMetrics metrics, IDiagnosticContext diagnostics, IAuditSink audit, RefusalLog refusals)
    {
        _audit = audit;
        _next = next;
        _cache = cache;
        _settings = settings;
        _time = time;
        _metrics = metrics;
        _diagnostics = diagnostics;
        _refusals = refusals;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var now = _time.GetUtcNow();
        var client = context.GetClientIdentity();
        var ban = _cache.Find(client, now);
        if (ban is null)
        {
            return _next(context);
        }

        _metrics.BanBlocked();
        _audit.BanBlocked(AuditEvents.Client(client), now);
        _diagnostics.Set("LimitDecision", "Banned");
        _refusals.Record(context, client.Key, RefusalReasons.Banned);
        return WriteBannedAsync(context, ban, now, _settings.Current.IpBans.StatusCode);
    }

    internal static Task WriteBannedAsync(HttpContext context, Ban ban, DateTimeOffset now, int statusCode)
    {
        string detail;
        if (ban.ExpiresAt is { } end)
        {
            var seconds = Math.Max(1, (long)Math.Ceiling((end - now).TotalSeconds));
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
            detail = string.Create(CultureInfo.InvariantCulture, $"This client is banned until {end:yyyy-MM-ddTHH:mm:ssZ}.");
        }
        else
        {
            detail = "This client is banned permanently.";
        }

        return ProblemResponse.WriteAsync(context, statusCode, BannedType, "Client banned", detail, writer =>
        {
            if (ban.ExpiresAt is { } until)
            {
                writer.WriteString("bannedUntil", until.UtcDateTime.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture));
            }
            else
            {
                writer.WriteNull("bannedUntil");
            }
        });
    }
}
