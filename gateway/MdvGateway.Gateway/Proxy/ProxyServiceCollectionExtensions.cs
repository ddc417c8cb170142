using MdvGateway.Gateway.ClientIdentity;
using Yarp.ReverseProxy.Transforms;

namespace MdvGateway.Gateway.Proxy;

public static class ProxyServiceCollectionExtensions
{
    /// <summary>Request headers that belong to the gateway; a client can never send them upstream.</summary>
    internal const string InternalHeaderPrefix = "X-Mdv-";

    /// <summary>
    /// YARP with routes and clusters from the <c>ReverseProxy</c> section. Upstreams get <c>X-Forwarded-For</c> built
    /// from the resolved client (never a client-supplied chain) plus <c>X-Forwarded-Proto/-Host/-Prefix</c>.
    /// </summary>
    public static IServiceCollection AddGatewayProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddReverseProxy()
            .LoadFromConfig(configuration.GetSection("ReverseProxy"))
            .AddTransforms(context =>
            {
                context.UseDefaultForwarders = false;
                context.AddXForwardedProto(action: ForwardedTransformActions.Set);
                context.AddXForwardedHost(action: ForwardedTransformActions.Set);
                context.AddXForwardedPrefix(action: ForwardedTransformActions.Set);
                context.AddRequestTransform(static transform =>
                {
                    var http = transform.HttpContext;
                    var headers = transform.ProxyRequest.Headers;
                    headers.Remove("X-Forwarded-For");
                    headers.TryAddWithoutValidation("X-Forwarded-For", ForwardedFor(http));
                    foreach (var name in http.Request.Headers.Keys)
                    {
                        if (name.StartsWith(InternalHeaderPrefix, StringComparison.OrdinalIgnoreCase))
                        {
                            headers.Remove(name);
                        }
                    }

                    return ValueTask.CompletedTask;
                });
            });
        return services;
    }

    /// <summary>The client, then the peer if the peer is a trusted proxy that forwarded for it.</summary>
    internal static string ForwardedFor(HttpContext context)
    {
        var client = context.GetClientIdentity().Address;
        var peer = context.Connection.RemoteIpAddress is { } p ? AddressNormalizer.Normalize(p) : null;
        return peer is null || peer.Equals(client)
            ? client.ToString()
            : string.Concat(client.ToString(), ", ", peer.ToString());
    }
}
