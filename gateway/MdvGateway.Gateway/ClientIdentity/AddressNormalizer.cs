using System.Net;

namespace MdvGateway.Gateway.ClientIdentity;

internal static class AddressNormalizer
{
    /// <summary>
    /// Parses an IP address in its standard notation only: dotted quad for IPv4 (not the legacy shorthand
    /// <c>10.1</c> or <c>167772161</c> that <see cref="IPAddress.TryParse(string?, out IPAddress?)"/> accepts), RFC 4291
    /// text for IPv6, no zone id.
    /// </summary>
    public static bool TryParseStrict(ReadOnlySpan<char> text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.IsEmpty || text.Contains('%'))
        {
            return false;
        }

        if (!text.Contains(':'))
        {
            // Exactly four decimal parts of one to three digits.
            var parts = 0;
            var digits = 0;
            foreach (var c in text)
            {
                if (c == '.')
                {
                    if (digits == 0)
                    {
                        return false;
                    }

                    parts++;
                    digits = 0;
                }
                else if (char.IsAsciiDigit(c) && ++digits <= 3)
                {
                    continue;
                }
                else
                {
                    return false;
                }
            }

            if (parts != 3 || digits == 0)
            {
                return false;
            }
        }

        if (!IPAddress.TryParse(text, out var parsed))
        {
            return false;
        }

        address = parsed;
        return true;
    }

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
