using MdvGateway.Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MdvGateway.Gateway.Redis;

public static class RedisServiceCollectionExtensions
{
    /// <summary>The shared Redis connection, configured once from the <c>Redis</c> section.</summary>
    public static IServiceCollection AddGatewayRedis(this IServiceCollection services)
    {
        services.TryAddSingleton(sp =>
        {
            var redis = sp.GetRequiredService<GatewaySettingsMonitor>().Current.Redis;
            return new GatewayRedisConfiguration(redis.Configuration, redis.TimeoutMs);
        });
        services.TryAddSingleton<RedisConnection>();
        services.AddHostedService<RedisConnector>();
        return services;
    }
}
