using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Primitives;

namespace MdvGateway.Gateway.ClientIdentity;

/// <summary>
/// The one answer to "who is this client": the TCP peer, unless the peer is a trusted proxy, in which case the
/// right-most <c>X-Forwarded-For</c> hop that is not itself a trusted proxy.
/// </summary>
internal sealed class ClientIpResolver
{
    /// <summary>More hops than any real proxy chain; bounds the work a hostile header can cause.</summary>
    internal const int MaxHops = 32;

    private readonly NetworkList _trustedProxies;
    private readonly int _ipv6PrefixLength;

    public ClientIpResolver(NetworkList trustedProxies, int ipv6PrefixLength)
    {
        _trustedProxies = trustedProxies;
        _ipv6PrefixLength = ipv6PrefixLength;
    }

    public ClientIdentity Resolve(IPAddress? peer, StringValues forwardedFor)
    {
        if (peer is null)
        {
            // Only in-memory transports have no peer; treat them as one anonymous client rather than crash.
            return ClientIdentity.Unknown;
        }

        var client = AddressNormalizer.Normalize(peer);
        if (forwardedFor.Count == 0 || _trustedProxies.Count == 0 || !_trustedProxies.Contains(client))
        {
            return Identify(client);
        }

        // Walk the hops from the right: each one was appended by the proxy to its right, so a hop is only as
        // credible as the proxy that wrote it. Stop at the first hop that is not a trusted proxy.
        var hops = 0;
        for (var v = forwardedFor.Count - 1; v >= 0; v--)
        {
            var remaining = (forwardedFor[v] ?? string.Empty).AsSpan();
            while (!remaining.IsEmpty)
            {
                var comma = remaining.LastIndexOf(',');
                var entry = (comma < 0 ? remaining : remaining[(comma + 1)..]).Trim();
                remaining = comma < 0 ? [] : remaining[..comma];
                if (entry.IsEmpty)
                {
                    continue;
                }

                if (++hops > MaxHops || !TryParseHop(entry, out var hop))
                {
                    // A malformed hop was written by the proxy we trust last; that proxy is the best answer.
                    return Identify(client);
                }

                client = hop;
                if (!_trustedProxies.Contains(hop))
                {
                    return Identify(hop);
                }
            }
        }

        // Every hop was a trusted proxy: the left-most is the closest we get to the client.
        return Identify(client);
    }

    private ClientIdentity Identify(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && _ipv6PrefixLength < 128)
        {
            var network = NetworkList.Mask(address, _ipv6PrefixLength);
            return new ClientIdentity(address, string.Concat(network.ToString(), "/", _ipv6PrefixLength.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        return new ClientIdentity(address, address.ToString());
    }

    /// <summary>Accepts <c>1.2.3.4</c>, <c>1.2.3.4:5678</c>, <c>2001:db8::1</c>, <c>[2001:db8::1]:443</c>.</summary>
    internal static bool TryParseHop(ReadOnlySpan<char> text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Length is 0 or > 64)
        {
            return false;
        }

        if (text[0] == '[')
        {
            var close = text.IndexOf(']');
            if (close < 0)
            {
                return false;
            }

            var rest = text[(close + 1)..];
            if (!rest.IsEmpty && !IsPortSuffix(rest))
            {
                return false;
            }

            text = text[1..close];
        }
        else if (text.Count(':') == 1)
        {
            var colon = text.IndexOf(':');
            if (!IsPortSuffix(text[colon..]))
            {
                return false;
            }

            text = text[..colon];
        }

        if (!AddressNormalizer.TryParseStrict(text, out var parsed))
        {
            return false;
        }

        address = AddressNormalizer.Normalize(parsed);
        return true;
    }

    private static bool IsPortSuffix(ReadOnlySpan<char> text)
        => text.Length is > 1 and <= 6 && text[0] == ':' && ushort.TryParse(text[1..], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out _);
}
