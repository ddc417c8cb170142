namespace MdvGateway.Gateway.ClientIdentity;

/// <summary>
/// The <c>ClientIp</c> section: how the gateway decides who a client is.
/// </summary>
public sealed class ClientIpOptions
{
    public const string SectionName = "ClientIp";

    /// <summary>
    /// Addresses or CIDR ranges of proxies whose <c>X-Forwarded-For</c> is believed. Empty (the default) means
    /// the header is never read and the TCP peer is the client. Loopback is not trusted implicitly.
    /// </summary>
    public List<string> TrustedProxies { get; set; } = [];

    /// <summary>
    /// IPv6 clients are identified by this prefix of their address, because one subscriber usually owns a whole
    /// /64 and can rotate through it. Default 64.
    /// </summary>
    public int IPv6PrefixLength { get; set; } = 64;
}
