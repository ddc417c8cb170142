namespace MdvGateway.Gateway.ClientIdentity;

public static class ClientIdentityApplicationBuilderExtensions
{
    /// <summary>Resolves the client of every request (trusted proxies, IPv6 prefixes) before anything else reads it.</summary>
    public static IApplicationBuilder UseClientIdentity(this IApplicationBuilder app)
        => app.UseMiddleware<ClientIdentityMiddleware>();
}
