using MdvGateway.Gateway.Configuration;

namespace MdvGateway.Gateway.ClientIdentity;

/// <summary>Resolves the client once per request, before anything that limits, bans or logs it.</summary>
internal sealed class ClientIdentityMiddleware
{
    private readonly RequestDelegate _next;
    private readonly GatewaySettingsMonitor _settings;

    public ClientIdentityMiddleware(RequestDelegate next, GatewaySettingsMonitor settings)
    {
        _next = next;
        _settings = settings;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var identity = _settings.Current.ClientIpResolver.Resolve(
            context.Connection.RemoteIpAddress,
            context.Request.Headers["X-Forwarded-For"]);
        context.Features.Set(identity);
        return _next(context);
    }
}
