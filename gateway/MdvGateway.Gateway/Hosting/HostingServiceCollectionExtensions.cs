using MdvGateway.Gateway.Proxy;
using Microsoft.AspNetCore.Http.Timeouts;

namespace MdvGateway.Gateway.Hosting;

internal static class HostingServiceCollectionExtensions
{
    /// <summary>ASP.NET Core's request timeouts with the gateway's default and named policies (YARP applies them per route).</summary>
    public static IServiceCollection AddGatewayRequestTimeouts(this IServiceCollection services, RequestTimeoutsOptions options)
        => services.AddRequestTimeouts(timeouts =>
        {
            timeouts.DefaultPolicy = Policy(options.Default);
            foreach (var (name, timeout) in options.Policies)
            {
                timeouts.AddPolicy(name, Policy(timeout));
            }
        });

    /// <summary>
    /// A timeout answered 504 problem+json. When the request was being proxied, YARP reports the timeout and
    /// <see cref="UpstreamErrorMiddleware"/> writes the same answer; this one covers a timeout anywhere else.
    /// </summary>
    private static RequestTimeoutPolicy Policy(TimeSpan timeout) => new()
    {
        Timeout = timeout,
        TimeoutStatusCode = StatusCodes.Status504GatewayTimeout,
        WriteTimeoutResponse = context => ProblemResponse.WriteAsync(context, StatusCodes.Status504GatewayTimeout,
            UpstreamErrorMiddleware.TimeoutType, "Request timed out", "The request took longer than this route allows."),
    };
}
