using System.Net;
using System.Net.Sockets;
using MdvGateway.Gateway.ClientIdentity;

namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// What a ban covers, in one canonical spelling: an IPv4 address (<c>203.0.113.7</c>), an IPv6 client prefix
/// (<c>2001:db8:1:2::/64</c>, the same key rate limits count against), or any other CIDR range.
/// </summary>
internal sealed record BanTarget(string Canonical, IPNetwork Network, bool IsClientKey)
{
    /// <summary>
    /// Parses an address or CIDR. A single IPv6 address is widened to the configured client prefix: banning one
    /// address of a /64 the client can rotate through would ban nothing.
    /// </summary>
    public static bool TryParse(string? text, int ipv6PrefixLength, out BanTarget target, out string error)
    {
        target = null!;
        if (!NetworkList.TryParseNetwork(text, out var network, out error))
        {
            return false;
        }

        var address = network.BaseAddress;
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            target = network.PrefixLength == 32
                ? new BanTarget(address.ToString(), network, IsClientKey: true)
                : new BanTarget(network.ToString(), network, IsClientKey: false);
            return true;
        }

        if (network.PrefixLength == 128 && ipv6PrefixLength < 128)
        {
            network = new IPNetwork(NetworkList.Mask(address, ipv6PrefixLength), ipv6PrefixLength);
        }

        var isClientKey = network.PrefixLength == ipv6PrefixLength || (network.PrefixLength == 128 && ipv6PrefixLength == 128);
        var canonical = network.PrefixLength == 128 ? network.BaseAddress.ToString() : network.ToString();
        target = new BanTarget(canonical, network, isClientKey);
        return true;
    }

    public bool Contains(IPAddress address) => Network.Contains(AddressNormalizer.Normalize(address));
}
