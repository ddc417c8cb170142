using System.Globalization;
using System.Net;
using System.Net.Sockets;
using NpgsqlTypes;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// Parses the <c>ClientIp</c> of an audit event: an IPv4 or IPv6 address, or a CIDR block (a ban target such as
/// <c>203.0.113.0/24</c>). Both are stored in the <c>inet</c> column, a block with its prefix length, so
/// <c>client_ip &gt;&gt;= '203.0.113.7'</c> finds the address and every block that contains it.
/// </summary>
internal static class ClientAddress
{
    /// <summary>Strict on purpose: <see cref="IPAddress.TryParse(string, out IPAddress)"/> accepts shorthand such as
    /// <c>10.1</c> and zone ids, which <c>inet</c> cannot hold and no gateway sends.</summary>
    public static bool TryParse(string text, out NpgsqlInet value)
    {
        value = default;
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        var addressText = slash < 0 ? text : text[..slash];
        if (!TryParseAddress(addressText, out var address))
        {
            return false;
        }

        var maxPrefix = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var prefix = maxPrefix;
        if (slash >= 0)
        {
            var prefixText = text[(slash + 1)..];
            if (prefixText.Length is 0 or > 3 || !prefixText.All(char.IsAsciiDigit)
                || !int.TryParse(prefixText, NumberStyles.None, CultureInfo.InvariantCulture, out prefix) || prefix > maxPrefix)
            {
                return false;
            }
        }

        value = new NpgsqlInet(address, (byte)prefix);
        return true;
    }

    private static bool TryParseAddress(string text, out IPAddress address)
    {
        address = IPAddress.None;
        if (text.Contains(':', StringComparison.Ordinal))
        {
            return IPAddress.TryParse(text, out address!)
                   && address.AddressFamily == AddressFamily.InterNetworkV6
                   && address.ScopeId == 0
                   && !text.Contains('%', StringComparison.Ordinal);
        }

        var parts = text.Split('.');
        if (parts.Length != 4 || parts.Any(p => p.Length is 0 or > 3 || !p.All(char.IsAsciiDigit)
                                                   || int.Parse(p, NumberStyles.None, CultureInfo.InvariantCulture) > 255))
        {
            return false;
        }

        return IPAddress.TryParse(text, out address!);
    }
}
