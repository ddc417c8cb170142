namespace MdvGateway.Gateway.ClientIdentity;

internal static class ClientIdentityHttpContextExtensions
{
    /// <summary>The client resolved by <see cref="ClientIdentityMiddleware"/> (the peer if it did not run).</summary>
    public static ClientIdentity GetClientIdentity(this HttpContext context)
    {
        if (context.Features.Get<ClientIdentity>() is { } identity)
        {
            return identity;
        }

        var peer = context.Connection.RemoteIpAddress is { } address ? AddressNormalizer.Normalize(address) : null;
        return peer is null ? ClientIdentity.Unknown : new ClientIdentity(peer, peer.ToString());
    }
}
