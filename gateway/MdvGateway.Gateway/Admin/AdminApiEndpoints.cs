namespace MdvGateway.Gateway.Admin;

/// <summary>The admin API's routes, for the admin listener's pipeline only.</summary>
internal static class AdminApiEndpoints
{
    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder endpoints)
    {
        var bans = endpoints.ServiceProvider.GetRequiredService<BanAdministration>();
        var information = endpoints.ServiceProvider.GetRequiredService<AdminInformation>();

        endpoints.MapGet("/admin/bans", bans.ListAsync).RequireRole(AdminRoles.BansRead);
        endpoints.MapPost("/admin/bans", bans.CreateAsync).RequireRole(AdminRoles.BansWrite);
        endpoints.MapPost("/admin/bans/import", bans.ImportAsync).RequireRole(AdminRoles.BansWrite);
        endpoints.MapGet("/admin/bans/{target}", bans.GetAsync).RequireRole(AdminRoles.BansRead);
        endpoints.MapMethods("/admin/bans/{target}", [HttpMethods.Patch], bans.ChangeAsync).RequireRole(AdminRoles.BansWrite);
        endpoints.MapDelete("/admin/bans/{target}", bans.DeleteAsync).RequireRole(AdminRoles.BansWrite);
        endpoints.MapGet("/admin/offenders", information.OffendersAsync).RequireRole(AdminRoles.BansRead);
        endpoints.MapGet("/admin/policies", information.PoliciesAsync).RequireRole(AdminRoles.ConfigRead);
        endpoints.MapGet(AdminOpenApi.Path, AdminOpenApi.WriteAsync);
        return endpoints;
    }

    private static IEndpointConventionBuilder RequireRole(this IEndpointConventionBuilder endpoint, string role)
        => endpoint.WithMetadata(new AdminRoleRequirement(role));
}
