using Microsoft.Extensions.DependencyInjection.Extensions;

namespace MdvGateway.Gateway.Configuration;

internal static class ConfigurationServiceCollectionExtensions
{
    /// <summary>The validated start-up settings, kept current (and valid) across reloads.</summary>
    public static IServiceCollection AddGatewaySettings(this IServiceCollection services, GatewaySettings initial)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton(sp => new GatewaySettingsMonitor(
            sp.GetRequiredService<IConfiguration>(),
            initial,
            sp.GetRequiredService<ILogger<GatewaySettingsMonitor>>()));
        return services;
    }
}
