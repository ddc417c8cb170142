namespace MdvGateway.Gateway.ClientIdentity;

internal static class ClientIdentityHttpContextExtensions
{
    /// <summary>The client resolved by <see cref="ClientIdentityMiddleware"/> (the peer if it did not run).</summary>
    public static ClientIdentity GetClientIdentity(this HttpContext context)
        => context.Features.Get<ClientIdentity>()
           ?? (context.Connection.RemoteIpAddress is { } peer
               ? new ClientIdentity(AddressNormalizer.Normalize(peer), AddressNormalizer.Normalize(peer).ToString())
               : ClientIdentity.Unknown);
}
