using System.Net;
using System.Net.Sockets;

namespace MdvGateway.Gateway.ClientIdentity;

/// <summary>
/// An immutable set of addresses and CIDR ranges with a membership test. IPv4-mapped IPv6 addresses are
/// matched as the IPv4 address they carry.
/// </summary>
internal sealed class NetworkList
{
    public static readonly NetworkList Empty = new([]);

    private readonly IPNetwork[] _networks;

    private NetworkList(IPNetwork[] networks) => _networks = networks;

    public int Count => _networks.Length;

    public bool Contains(IPAddress address)
    {
        if (_networks.Length == 0)
        {
            return false;
        }

        address = AddressNormalizer.Normalize(address);
        foreach (var network in _networks)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Parses entries that were already validated; throws on anything else.</summary>
    public static NetworkList Parse(IEnumerable<string> entries)
    {
        var networks = new List<IPNetwork>();
        foreach (var entry in entries)
        {
            if (!TryParseNetwork(entry, out var network, out var error))
            {
                throw new FormatException(error);
            }

            networks.Add(network);
        }

        return networks.Count == 0 ? Empty : new NetworkList([.. networks]);
    }

    /// <summary>
    /// Accepts <c>203.0.113.7</c>, <c>203.0.113.0/24</c>, <c>2001:db8::/32</c>. Rejects ranges with host bits set
    /// (<c>10.1.2.3/8</c>), because such an entry is almost always a typo for something narrower.
    /// </summary>
    public static bool TryParseNetwork(string? text, out IPNetwork network, out string error)
    {
        network = default;
        text = text?.Trim();
        if (string.IsNullOrEmpty(text))
        {
            error = "an empty entry is not an address or CIDR range";
            return false;
        }

        if (text.Contains('%', StringComparison.Ordinal))
        {
            error = $"'{text}' has a zone id (%...); zone ids are local to one host and cannot be matched";
            return false;
        }

        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash < 0)
        {
            if (!AddressNormalizer.TryParseStrict(text, out var single))
            {
                error = $"'{text}' is not a valid IP address or CIDR range";
                return false;
            }

            single = AddressNormalizer.Normalize(single);
            network = new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            error = string.Empty;
            return true;
        }

        if (!AddressNormalizer.TryParseStrict(text.AsSpan(0, slash), out var baseAddress)
            || !int.TryParse(text.AsSpan(slash + 1), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var prefix))
        {
            error = $"'{text}' is not a valid IP address or CIDR range";
            return false;
        }

        if (baseAddress.IsIPv4MappedToIPv6)
        {
            // Addresses are matched in their IPv4 form, so a mapped range must become the IPv4 range it covers.
            if (prefix < 96)
            {
                error = $"'{text}' is an IPv4-mapped range wider than ::ffff:0:0/96; write the IPv4 range instead";
                return false;
            }

            return TryParseNetwork(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{baseAddress.MapToIPv4()}/{prefix - 96}"), out network, out error);
        }

        var maxPrefix = baseAddress.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        if (prefix > maxPrefix)
        {
            error = $"'{text}' has a prefix length above {maxPrefix}";
            return false;
        }

        if (!Mask(baseAddress, prefix).Equals(baseAddress) || !IPNetwork.TryParse(text, out network))
        {
            error = $"'{text}' has bits set after the /{prefix} prefix (did you mean {new IPNetwork(Mask(baseAddress, prefix), prefix)}?)";
            return false;
        }

        error = string.Empty;
        return true;
    }

    internal static IPAddress Mask(IPAddress address, int prefixLength)
    {
        var bytes = address.GetAddressBytes();
        for (var i = 0; i < bytes.Length; i++)
        {
            var bitsInThisByte = Math.Clamp(prefixLength - (i * 8), 0, 8);
            bytes[i] &= (byte)(0xFF << (8 - bitsInThisByte));
        }

        return new IPAddress(bytes);
    }
}
