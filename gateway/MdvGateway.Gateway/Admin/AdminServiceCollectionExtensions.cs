namespace MdvGateway.Gateway.Admin;

internal static class AdminServiceCollectionExtensions
{
    /// <summary>The separate admin listener on <c>Admin:Urls</c>.</summary>
    public static IServiceCollection AddAdminListener(this IServiceCollection services)
    {
        services.AddSingleton<AdminListener>();
        services.AddHostedService(sp => sp.GetRequiredService<AdminListener>());
        return services;
    }
}
