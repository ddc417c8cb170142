using System.Net;

namespace MdvGateway.Gateway.ClientIdentity;

/// <summary>
/// Who sent a request. <see cref="Key"/> is what limits and bans are counted against: the address for IPv4,
/// the configured prefix (<c>2001:db8:1:2::/64</c>) for IPv6.
/// </summary>
internal sealed record ClientIdentity(IPAddress Address, string Key)
{
    /// <summary>The Redis bucket of the client's keys (see <see cref="Redis.RedisKeys.Bucket"/>).</summary>
    public int Bucket { get; } = Redis.RedisKeys.Bucket(Key);

    public static readonly ClientIdentity Unknown = new(IPAddress.None, "unknown");
}
