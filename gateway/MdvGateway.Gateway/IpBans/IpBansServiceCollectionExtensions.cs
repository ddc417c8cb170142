using MdvGateway.Gateway.Diagnostics;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MdvGateway.Gateway.IpBans;

public static class IpBansServiceCollectionExtensions
{
    /// <summary>Strikes, escalating bans in Redis and the local ban cache kept in sync through pub/sub.</summary>
    public static IServiceCollection AddIpBans(this IServiceCollection services)
    {
        services.TryAddSingleton<IBanStore, RedisBanStore>();
        services.TryAddSingleton(sp =>
        {
            var cache = new BanCache();
            sp.GetRequiredService<GatewayMetrics>().ObserveActiveBans(() => cache.Count);
            return cache;
        });
        services.TryAddSingleton<StrikeRecorder>();
        services.AddHostedService<BanSynchronizer>();
        return services;
    }

    /// <summary>Refuses banned clients; goes right after client identity, before routing.</summary>
    public static IApplicationBuilder UseIpBans(this IApplicationBuilder app)
        => app.UseMiddleware<BanEnforcementMiddleware>();
}
