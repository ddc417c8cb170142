using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MdvGateway.Gateway.Configuration;

internal static class ConfigurationServiceCollectionExtensions
{
    /// <summary>
    /// The validated start-up settings, kept current (and valid) across reloads, together with the routes and clusters
    /// the proxy is to load (<paramref name="proxy"/>), which follow only the reloads that are accepted.
    /// </summary>
    public static IServiceCollection AddGatewaySettings(this IServiceCollection services, GatewaySettings initial, AcceptedProxyConfiguration proxy)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(proxy);
        services.TryAddSingleton(sp => new GatewaySettingsMonitor(
            sp.GetRequiredService<IConfiguration>(),
            initial,
            sp.GetRequiredService<ILogger<GatewaySettingsMonitor>>(),
            sp.GetRequiredService<AcceptedProxyConfiguration>()));
        return services;
    }
}
