using System.Net;
using System.Net.Sockets;
using MdvGateway.Gateway.ClientIdentity;
using Microsoft.Extensions.Primitives;
using Identity = MdvGateway.Gateway.ClientIdentity.ClientIdentity;

namespace MdvGateway.Gateway.Tests.ClientIdentity;

public sealed class ClientIpResolverTests
{
    private static readonly IPAddress TrustedPeer = IPAddress.Parse("10.0.0.1");

    private static ClientIpResolver Resolver(params string[] trustedProxies) => Resolver(64, trustedProxies);

    private static ClientIpResolver Resolver(int ipv6PrefixLength, params string[] trustedProxies)
        => new(NetworkList.Parse(trustedProxies), ipv6PrefixLength);

    [Fact]
    public void Resolve_PeerNotTrusted_IgnoresForwardedFor()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(IPAddress.Parse("203.0.113.9"), "198.51.100.1");

        Assert.Equal(IPAddress.Parse("203.0.113.9"), identity.Address);
        Assert.Equal("203.0.113.9", identity.Key);
    }

    [Fact]
    public void Resolve_ForgedHeaderNamingTrustedRange_IsStillIgnored()
    {
        // An internet client cannot promote itself by claiming to come through a trusted proxy.
        var identity = Resolver("10.0.0.0/8").Resolve(IPAddress.Parse("203.0.113.9"), "198.51.100.1, 10.0.0.2");

        Assert.Equal("203.0.113.9", identity.Key);
    }

    [Fact]
    public void Resolve_EmptyTrustedList_NeverReadsForwardedFor()
    {
        var identity = Resolver().Resolve(TrustedPeer, "198.51.100.1");

        Assert.Equal(TrustedPeer, identity.Address);
        Assert.Equal("10.0.0.1", identity.Key);
    }

    [Fact]
    public void Resolve_LoopbackPeerWithoutTrust_IsNotTrustedImplicitly()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(IPAddress.Loopback, "198.51.100.1");

        Assert.Equal("127.0.0.1", identity.Key);
    }

    [Fact]
    public void Resolve_TrustedPeerWithoutHeader_ReturnsPeer()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, StringValues.Empty);

        Assert.Equal(TrustedPeer, identity.Address);
    }

    [Fact]
    public void Resolve_TrustedPeer_ReturnsRightMostHop()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, "198.51.100.1, 203.0.113.5");

        Assert.Equal(IPAddress.Parse("203.0.113.5"), identity.Address);
        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_SeveralTrustedHops_ReturnsRightMostUntrustedHop()
    {
        var identity = Resolver("10.0.0.0/8", "192.0.2.10")
            .Resolve(TrustedPeer, "198.51.100.1, 203.0.113.5, 192.0.2.10, 10.0.0.3, 10.0.0.2");

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_AllHopsTrusted_ReturnsLeftMostHop()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, "10.0.0.4, 10.0.0.3, 10.0.0.2");

        Assert.Equal("10.0.0.4", identity.Key);
    }

    [Fact]
    public void Resolve_SeveralHeaderValues_TreatedAsOneList()
    {
        // Two X-Forwarded-For lines are one comma-separated list, in order.
        var header = new StringValues(["198.51.100.1, 203.0.113.5", "10.0.0.3, 10.0.0.2"]);

        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, header);

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_SeveralHeaderValues_LastValueIsRightMost()
    {
        var header = new StringValues(["198.51.100.1", "203.0.113.5"]);

        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, header);

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_SeveralHeaderValuesAllTrusted_ReturnsLeftMostOfFirstValue()
    {
        var header = new StringValues(["10.0.0.7, 10.0.0.6", "10.0.0.5"]);

        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, header);

        Assert.Equal("10.0.0.7", identity.Key);
    }

    [Theory]
    [InlineData("203.0.113.5, , 10.0.0.2")]
    [InlineData("203.0.113.5,10.0.0.2,")]
    [InlineData("  203.0.113.5  ,   10.0.0.2  ")]
    [InlineData(",,203.0.113.5")]
    public void Resolve_EmptyEntriesAndWhitespace_AreSkipped(string header)
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, header);

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("[::1")]
    [InlineData("1.2.3.4:99999")]
    [InlineData("%00")]
    [InlineData("1.2.3.4:")]
    [InlineData("1.2.3.4:abc")]
    [InlineData("fe80::1%eth0")]
    [InlineData("[2001:db8::1]443")]
    [InlineData("unknown")]
    [InlineData("_hidden")]
    [InlineData("1.2.3.4 5.6.7.8")]
    public void Resolve_MalformedHop_FallsBackToLastTrustedAddress(string malformed)
    {
        var resolver = Resolver("10.0.0.0/8");

        var identity = resolver.Resolve(TrustedPeer, $"198.51.100.1, {malformed}, 10.0.0.2");

        Assert.Equal("10.0.0.2", identity.Key);
    }

    [Theory]
    [InlineData("garbage")]
    [InlineData("[::1")]
    [InlineData("1.2.3.4:99999")]
    [InlineData("%00")]
    public void Resolve_MalformedRightMostHop_FallsBackToPeer(string malformed)
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, $"198.51.100.1, {malformed}");

        Assert.Equal(TrustedPeer, identity.Address);
    }

    [Fact]
    public void Resolve_OverlongHop_FallsBackWithoutThrowing()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, new string('1', 10_000));

        Assert.Equal(TrustedPeer, identity.Address);
    }

    [Fact]
    public void Resolve_ShorthandIPv4Hop_IsMalformedAndFallsBackToLastTrustedAddress()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, "198.51.100.1, 1.2.3, 10.0.0.2");

        Assert.Equal("10.0.0.2", identity.Key);
    }

    [Fact]
    public void Resolve_HopWithIPv4Port_StripsPort()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, "1.2.3.4:5678");

        Assert.Equal(IPAddress.Parse("1.2.3.4"), identity.Address);
        Assert.Equal("1.2.3.4", identity.Key);
    }

    [Fact]
    public void Resolve_HopWithBracketedIPv6Port_StripsPortAndKeysByPrefix()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, "[2001:db8::1]:443");

        Assert.Equal(IPAddress.Parse("2001:db8::1"), identity.Address);
        Assert.Equal("2001:db8::/64", identity.Key);
    }

    [Fact]
    public void Resolve_HopWithPortThatIsTrusted_IsSkipped()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, "203.0.113.5:1000, 10.0.0.2:2000");

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_IPv4MappedPeerInIPv4TrustedRange_IsTrusted()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(IPAddress.Parse("::ffff:10.0.0.1"), "203.0.113.5");

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_IPv4MappedPeer_IsReportedAsIPv4()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(IPAddress.Parse("::ffff:203.0.113.9"), StringValues.Empty);

        Assert.Equal(AddressFamily.InterNetwork, identity.Address.AddressFamily);
        Assert.Equal(IPAddress.Parse("203.0.113.9"), identity.Address);
        Assert.Equal("203.0.113.9", identity.Key);
    }

    [Fact]
    public void Resolve_IPv4MappedTrustedPeerWithoutHeader_IsReportedAsIPv4()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(IPAddress.Parse("::ffff:10.0.0.1"), StringValues.Empty);

        Assert.Equal(AddressFamily.InterNetwork, identity.Address.AddressFamily);
        Assert.Equal("10.0.0.1", identity.Key);
    }

    [Fact]
    public void Resolve_IPv4MappedHop_IsReportedAsIPv4()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, "::ffff:203.0.113.5");

        Assert.Equal(AddressFamily.InterNetwork, identity.Address.AddressFamily);
        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_IPv4MappedTrustedHop_IsSkipped()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, "203.0.113.5, ::ffff:10.0.0.2");

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_IPv6TrustedProxy_ReadsHeader()
    {
        var identity = Resolver("2001:db8:ffff::/48").Resolve(IPAddress.Parse("2001:db8:ffff::1"), "203.0.113.5");

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_IPv6PeerWithScopeId_DropsScope()
    {
        var identity = Resolver(128).Resolve(IPAddress.Parse("fe80::1%3"), StringValues.Empty);

        Assert.Equal(0, identity.Address.ScopeId);
        Assert.Equal("fe80::1", identity.Key);
    }

    [Fact]
    public void Resolve_TwoIPv6AddressesInSame64_ShareKey()
    {
        var resolver = Resolver();

        var first = resolver.Resolve(IPAddress.Parse("2001:db8:1:2::1"), StringValues.Empty);
        var second = resolver.Resolve(IPAddress.Parse("2001:db8:1:2:ffff:ffff:ffff:ffff"), StringValues.Empty);

        Assert.Equal("2001:db8:1:2::/64", first.Key);
        Assert.Equal(first.Key, second.Key);
    }

    [Fact]
    public void Resolve_IPv6Client_KeepsFullAddress()
    {
        var identity = Resolver().Resolve(IPAddress.Parse("2001:db8:1:2::1"), StringValues.Empty);

        Assert.Equal(IPAddress.Parse("2001:db8:1:2::1"), identity.Address);
    }

    [Fact]
    public void Resolve_IPv6AddressesInDifferent64s_HaveDifferentKeys()
    {
        var resolver = Resolver();

        var first = resolver.Resolve(IPAddress.Parse("2001:db8:1:2::1"), StringValues.Empty);
        var second = resolver.Resolve(IPAddress.Parse("2001:db8:1:3::1"), StringValues.Empty);

        Assert.NotEqual(first.Key, second.Key);
        Assert.Equal("2001:db8:1:3::/64", second.Key);
    }

    [Fact]
    public void Resolve_IPv6HopFromTrustedProxy_KeyedByPrefix()
    {
        var resolver = Resolver("10.0.0.0/8");

        var first = resolver.Resolve(TrustedPeer, "2001:db8:1:2::1");
        var second = resolver.Resolve(TrustedPeer, "[2001:db8:1:2::99]:1234");

        Assert.Equal("2001:db8:1:2::/64", first.Key);
        Assert.Equal(first.Key, second.Key);
    }

    [Fact]
    public void Resolve_PrefixLength48_SharesKeyAcrossSubnetsOfOne48()
    {
        var resolver = Resolver(48);

        var first = resolver.Resolve(IPAddress.Parse("2001:db8:1:2::1"), StringValues.Empty);
        var second = resolver.Resolve(IPAddress.Parse("2001:db8:1:ffff::1"), StringValues.Empty);
        var other = resolver.Resolve(IPAddress.Parse("2001:db8:2::1"), StringValues.Empty);

        Assert.Equal("2001:db8:1::/48", first.Key);
        Assert.Equal(first.Key, second.Key);
        Assert.NotEqual(first.Key, other.Key);
    }

    [Fact]
    public void Resolve_PrefixLength128_KeysByFullAddress()
    {
        var resolver = Resolver(128);

        var first = resolver.Resolve(IPAddress.Parse("2001:db8:1:2::1"), StringValues.Empty);
        var second = resolver.Resolve(IPAddress.Parse("2001:db8:1:2::2"), StringValues.Empty);

        Assert.Equal("2001:db8:1:2::1", first.Key);
        Assert.NotEqual(first.Key, second.Key);
    }

    [Fact]
    public void Resolve_IPv6PrefixLength_DoesNotAffectIPv4()
    {
        var identity = Resolver(48).Resolve(IPAddress.Parse("203.0.113.9"), StringValues.Empty);

        Assert.Equal("203.0.113.9", identity.Key);
    }

    [Fact]
    public void Resolve_ExactlyMaxHops_ReachesClient()
    {
        var hops = new List<string> { "203.0.113.5" };
        hops.AddRange(Enumerable.Range(1, ClientIpResolver.MaxHops - 1).Select(i => $"10.0.1.{i}"));

        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, string.Join(", ", hops));

        Assert.Equal("203.0.113.5", identity.Key);
    }

    [Fact]
    public void Resolve_MoreThanMaxHops_StopsAtLastTrustedHopWithinBound()
    {
        // 40 trusted hops hide the client: the walk gives up after MaxHops and keeps the last trusted hop it read.
        var hops = new List<string> { "203.0.113.5" };
        hops.AddRange(Enumerable.Range(1, 40).Select(i => $"10.0.1.{i}"));

        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, string.Join(", ", hops));

        var lastReadHop = $"10.0.1.{40 - ClientIpResolver.MaxHops + 1}";
        Assert.Equal(lastReadHop, identity.Key);
    }

    [Fact]
    public void Resolve_MoreThanMaxHopsAcrossHeaderValues_AreCountedTogether()
    {
        var values = new List<string> { "203.0.113.5" };
        values.AddRange(Enumerable.Range(1, 40).Select(i => $"10.0.1.{i}"));

        var identity = Resolver("10.0.0.0/8").Resolve(TrustedPeer, new StringValues([.. values]));

        Assert.NotEqual("203.0.113.5", identity.Key);
        Assert.StartsWith("10.0.1.", identity.Key, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_NullPeer_ReturnsUnknown()
    {
        var identity = Resolver("10.0.0.0/8").Resolve(null, "203.0.113.5");

        Assert.Same(Identity.Unknown, identity);
        Assert.Equal("unknown", identity.Key);
    }

    [Theory]
    [InlineData("1.2.3.4", "1.2.3.4")]
    [InlineData("1.2.3.4:5678", "1.2.3.4")]
    [InlineData("1.2.3.4:0", "1.2.3.4")]
    [InlineData("1.2.3.4:65535", "1.2.3.4")]
    [InlineData("2001:db8::1", "2001:db8::1")]
    [InlineData("[2001:db8::1]", "2001:db8::1")]
    [InlineData("[2001:db8::1]:443", "2001:db8::1")]
    [InlineData("::1", "::1")]
    [InlineData("::ffff:1.2.3.4", "1.2.3.4")]
    [InlineData("[::ffff:1.2.3.4]:80", "1.2.3.4")]
    public void TryParseHop_ValidHop_ReturnsAddress(string text, string expected)
    {
        Assert.True(ClientIpResolver.TryParseHop(text, out var address));
        Assert.Equal(IPAddress.Parse(expected), address);
    }

    [Theory]
    [InlineData("")]
    [InlineData("garbage")]
    [InlineData("[::1")]
    [InlineData("[::1]x")]
    [InlineData("[::1]:")]
    [InlineData("[2001:db8::1]443")]
    [InlineData("[2001:db8::1]:99999")]
    [InlineData("1.2.3.4:99999")]
    [InlineData("1.2.3.4:65536")]
    [InlineData("1.2.3.4:")]
    [InlineData("1.2.3.4:-1")]
    [InlineData("1.2.3.4:+80")]
    [InlineData("1.2.3.4:8a")]
    [InlineData("1.2.3.4:5678:9")]
    [InlineData("%00")]
    [InlineData("fe80::1%eth0")]
    [InlineData("[fe80::1%eth0]:80")]
    [InlineData("unknown")]
    [InlineData("1.2.3.4.5")]
    [InlineData("256.1.1.1")]
    public void TryParseHop_MalformedHop_ReturnsFalse(string text)
    {
        Assert.False(ClientIpResolver.TryParseHop(text, out var address));
        Assert.Equal(IPAddress.None, address);
    }
}
