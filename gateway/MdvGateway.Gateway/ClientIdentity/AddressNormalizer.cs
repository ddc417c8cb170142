using System.Net;

namespace MdvGateway.Gateway.ClientIdentity;

internal static class AddressNormalizer
{
    /// <summary>
    /// One address, one spelling: IPv4-mapped IPv6 (<c>::ffff:203.0.113.7</c>, what a dual-stack socket reports)
    /// becomes plain IPv4 and scope ids are dropped, so a client cannot escape its limit by changing notation.
    /// </summary>
    public static IPAddress Normalize(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        if (address.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            return new IPAddress(address.GetAddressBytes());
        }

        return address;
    }
}
