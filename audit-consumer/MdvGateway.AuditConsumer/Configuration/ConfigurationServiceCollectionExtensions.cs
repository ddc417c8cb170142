using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace MdvGateway.AuditConsumer.Configuration;

internal static class ConfigurationServiceCollectionExtensions
{
    /// <summary>The validated settings, and each section as <see cref="IOptions{TOptions}"/>.</summary>
    public static IServiceCollection AddAuditSettings(this IServiceCollection services, AuditConsumerSettings settings)
    {
        services.TryAddSingleton(settings);
        services.TryAddSingleton(Options.Create(settings.Audit));
        services.TryAddSingleton(Options.Create(settings.RabbitMq));
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
