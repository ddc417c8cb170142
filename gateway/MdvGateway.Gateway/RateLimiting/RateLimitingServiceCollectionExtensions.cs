using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MdvGateway.Gateway.RateLimiting;

public static class RateLimitingServiceCollectionExtensions
{
    /// <summary>
    /// Distributed sliding-window limits from the <c>RateLimiting</c> section, decided in batches by the gateway's own
    /// Redis engine (<c>decide.lua</c>). The policy names are also registered
    /// with ASP.NET Core's <see cref="Microsoft.AspNetCore.RateLimiting.RateLimiterOptions"/>, which is where YARP
    /// checks that a route's <c>RateLimiterPolicy</c> exists.
    /// </summary>
    public static IServiceCollection AddDistributedRateLimiting(this IServiceCollection services, IConfiguration configuration)
    {
        services.TryAddSingleton<RedisDecisionBatcher>();
        services.TryAddSingleton<IRateLimitStore, RedisRateLimitStore>();
        services.TryAddSingleton(sp => new RedisCircuitBreaker(
            sp.GetRequiredService<TimeProvider>(),
            () => sp.GetRequiredService<GatewaySettingsMonitor>().Current.Redis));
        services.TryAddSingleton<LocalFallbackLimiter>();
        services.TryAddSingleton<OverLimitCache>();
        services.TryAddSingleton<RateLimitEvaluator>();

        var policyNames = configuration.GetSection($"{RateLimitingOptions.SectionName}:Policies").GetChildren().Select(p => p.Key).ToList();
        services.AddRateLimiter(options =>
        {
            foreach (var name in policyNames)
            {
                options.AddPolicy(name, new NamedPolicyRegistration(name));
            }
        });
        return services;
    }

    /// <summary>Runs the route's policy; goes inside <c>MapReverseProxy(pipeline => ...)</c>.</summary>
    public static IApplicationBuilder UseDistributedRateLimiting(this IApplicationBuilder app)
        => app.UseMiddleware<DistributedRateLimitingMiddleware>();
}
