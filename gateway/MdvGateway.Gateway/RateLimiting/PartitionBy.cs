namespace MdvGateway.Gateway.RateLimiting;

/// <summary>What a policy counts against: the client, the client per route, or a request header.</summary>
internal sealed record PartitionBy(PartitionKind Kind, string? HeaderName)
{
    public static readonly PartitionBy ClientIp = new(PartitionKind.ClientIp, null);
    public static readonly PartitionBy RouteAndClientIp = new(PartitionKind.RouteAndClientIp, null);

    private const string HeaderPrefix = "Header:";

    public static bool TryParse(string? text, out PartitionBy partitionBy, out string error)
    {
        error = string.Empty;
        switch (text?.Trim())
        {
            case null or "" or "ClientIp":
                partitionBy = ClientIp;
                return true;
            case "Route+ClientIp":
                partitionBy = RouteAndClientIp;
                return true;
        }

        var value = text.Trim();
        if (value.StartsWith(HeaderPrefix, StringComparison.OrdinalIgnoreCase))
        {
            var header = value[HeaderPrefix.Length..].Trim();
            if (header.Length > 0 && header.All(IsTokenChar))
            {
                partitionBy = new PartitionBy(PartitionKind.Header, header);
                return true;
            }

            partitionBy = ClientIp;
            error = $"'{value}' does not name a valid HTTP header";
            return false;
        }

        partitionBy = ClientIp;
        error = $"'{value}' is not one of ClientIp, Route+ClientIp, Header:<name>";
        return false;
    }

    // RFC 9110 token characters.
    private static bool IsTokenChar(char c)
        => char.IsAsciiLetterOrDigit(c) || "!#$%&'*+-.^_`|~".Contains(c, StringComparison.Ordinal);

    public override string ToString() => Kind switch
    {
        PartitionKind.RouteAndClientIp => "Route+ClientIp",
        PartitionKind.Header => HeaderPrefix + HeaderName,
        _ => "ClientIp",
    };
}

internal enum PartitionKind
{
    ClientIp,
    RouteAndClientIp,
    Header,
}
