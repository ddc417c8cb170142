namespace MdvGateway.Gateway.ClientIdentity;

internal static class ClientIpOptionsValidator
{
    public static void Validate(ClientIpOptions options, ICollection<string> problems)
    {
        const string s = ClientIpOptions.SectionName;
        for (var i = 0; i < options.TrustedProxies.Count; i++)
        {
            if (!NetworkList.TryParseNetwork(options.TrustedProxies[i], out _, out var error))
            {
                problems.Add($"{s}:TrustedProxies:{i}: {error}");
            }
        }

        if (options.IPv6PrefixLength is < 1 or > 128)
        {
            problems.Add($"{s}:IPv6PrefixLength: {options.IPv6PrefixLength} must be between 1 and 128 (64 keys a subscriber's whole /64)");
        }
    }
}
