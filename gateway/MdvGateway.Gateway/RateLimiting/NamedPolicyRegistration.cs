using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Makes a configured policy name known to ASP.NET Core, so YARP's route validation accepts it. Enforcement is
/// <see cref="DistributedRateLimitingMiddleware"/>'s: the gateway never calls <c>UseRateLimiter</c>, and if someone
/// did, this registration would refuse to guess and let the request through to that middleware.
/// </summary>
internal sealed class NamedPolicyRegistration(string name) : IRateLimiterPolicy<string>
{
    public Func<OnRejectedContext, CancellationToken, ValueTask>? OnRejected => null;

    public RateLimitPartition<string> GetPartition(HttpContext httpContext) => RateLimitPartition.GetNoLimiter(name);
}
