using System.Net;
using MdvGateway.Gateway.ClientIdentity;

namespace MdvGateway.Gateway.Tests.ClientIdentity;

public sealed class NetworkListTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7", 32)]
    [InlineData("203.0.113.0/24", "203.0.113.0", 24)]
    [InlineData("10.0.0.0/8", "10.0.0.0", 8)]
    [InlineData("0.0.0.0/0", "0.0.0.0", 0)]
    [InlineData("203.0.113.7/32", "203.0.113.7", 32)]
    [InlineData("2001:db8::1", "2001:db8::1", 128)]
    [InlineData("2001:db8::/32", "2001:db8::", 32)]
    [InlineData("2001:db8:1:2::/64", "2001:db8:1:2::", 64)]
    [InlineData("::/0", "::", 0)]
    [InlineData("  10.0.0.0/8  ", "10.0.0.0", 8)]
    [InlineData("::ffff:10.0.0.1", "10.0.0.1", 32)]
    public void TryParseNetwork_ValidEntry_ReturnsNetwork(string text, string baseAddress, int prefixLength)
    {
        Assert.True(NetworkList.TryParseNetwork(text, out var network, out var error));
        Assert.Equal(IPAddress.Parse(baseAddress), network.BaseAddress);
        Assert.Equal(prefixLength, network.PrefixLength);
        Assert.Equal(string.Empty, error);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    public void TryParseNetwork_EmptyEntry_SaysItIsEmpty(string? text)
    {
        Assert.False(NetworkList.TryParseNetwork(text, out _, out var error));
        Assert.Contains("empty", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/x")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/+8")]
    [InlineData("10.0.0.0/ 8")]
    [InlineData("/8")]
    [InlineData("10.0.0.0/8/8")]
    [InlineData("fe80::1%eth0")]
    [InlineData("fe80::%eth0/64")]
    [InlineData("256.0.0.0/8")]
    [InlineData("1.2.3.4.5")]
    public void TryParseNetwork_InvalidText_ReturnsFalseNamingTheEntry(string text)
    {
        Assert.False(NetworkList.TryParseNetwork(text, out _, out var error));
        Assert.Contains($"'{text.Trim()}'", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseNetwork_IPv4PrefixAbove32_ReportsPrefixLength()
    {
        Assert.False(NetworkList.TryParseNetwork("10.0.0.0/33", out _, out var error));
        Assert.Equal("'10.0.0.0/33' has a prefix length above 32", error);
    }

    [Fact]
    public void TryParseNetwork_IPv6PrefixAbove128_ReportsPrefixLength()
    {
        Assert.False(NetworkList.TryParseNetwork("2001:db8::/129", out _, out var error));
        Assert.Equal("'2001:db8::/129' has a prefix length above 128", error);
    }

    [Fact]
    public void TryParseNetwork_IPv4HostBitsSet_SuggestsMaskedNetwork()
    {
        Assert.False(NetworkList.TryParseNetwork("10.1.2.3/8", out _, out var error));
        Assert.Contains("'10.1.2.3/8'", error, StringComparison.Ordinal);
        Assert.Contains("did you mean 10.0.0.0/8?", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseNetwork_IPv4HostBitsSetInMiddleOctet_SuggestsMaskedNetwork()
    {
        Assert.False(NetworkList.TryParseNetwork("192.168.1.77/20", out _, out var error));
        Assert.Contains("did you mean 192.168.0.0/20?", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseNetwork_IPv6HostBitsSet_SuggestsMaskedNetwork()
    {
        Assert.False(NetworkList.TryParseNetwork("2001:db8::1/32", out _, out var error));
        Assert.Contains("did you mean 2001:db8::/32?", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10")]
    [InlineData("10.1")]
    [InlineData("192.168.1")]
    [InlineData("167772161")]
    [InlineData("0x0a000001")]
    [InlineData("192.168.1/24")]
    public void TryParseNetwork_ShorthandIPv4_IsRejectedAsNotAnAddress(string text)
    {
        Assert.False(NetworkList.TryParseNetwork(text, out _, out var error));
        Assert.Contains("is not a valid IP address or CIDR range", error, StringComparison.Ordinal);
    }

    [Fact]
    public void Contains_IPv4MappedCidrEntry_MatchesAddressesItCovers()
    {
        var list = NetworkList.Parse(["::ffff:10.0.0.0/104"]);

        Assert.True(list.Contains(IPAddress.Parse("10.0.0.1")));
        Assert.True(list.Contains(IPAddress.Parse("::ffff:10.0.0.1")));
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0", true)]
    [InlineData("10.0.0.0/8", "10.255.255.255", true)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("10.0.0.0/8", "9.255.255.255", false)]
    [InlineData("203.0.113.7", "203.0.113.7", true)]
    [InlineData("203.0.113.7", "203.0.113.8", false)]
    [InlineData("0.0.0.0/0", "198.51.100.1", true)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("2001:db8::1", "2001:db8::1", true)]
    [InlineData("2001:db8::1", "2001:db8::2", false)]
    [InlineData("10.0.0.0/8", "::ffff:10.1.2.3", true)]
    [InlineData("10.0.0.0/8", "::ffff:11.1.2.3", false)]
    [InlineData("::ffff:10.0.0.1", "10.0.0.1", true)]
    [InlineData("10.0.0.0/8", "2001:db8::1", false)]
    [InlineData("::/0", "10.0.0.1", false)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    public void Contains_SingleEntry_MatchesOnlyAddressesInside(string entry, string address, bool expected)
    {
        var list = NetworkList.Parse([entry]);

        Assert.Equal(expected, list.Contains(IPAddress.Parse(address)));
    }

    [Fact]
    public void Contains_SeveralEntries_MatchesAny()
    {
        var list = NetworkList.Parse(["10.0.0.0/8", "192.0.2.10", "2001:db8::/32"]);

        Assert.Equal(3, list.Count);
        Assert.True(list.Contains(IPAddress.Parse("10.9.9.9")));
        Assert.True(list.Contains(IPAddress.Parse("192.0.2.10")));
        Assert.True(list.Contains(IPAddress.Parse("2001:db8::5")));
        Assert.False(list.Contains(IPAddress.Parse("192.0.2.11")));
    }

    [Fact]
    public void Contains_IPv6WithScopeId_MatchesWithoutScope()
    {
        var list = NetworkList.Parse(["fe80::/64"]);

        Assert.True(list.Contains(IPAddress.Parse("fe80::1%2")));
    }

    [Fact]
    public void Contains_EmptyList_MatchesNothing()
    {
        Assert.False(NetworkList.Empty.Contains(IPAddress.Parse("10.0.0.1")));
        Assert.False(NetworkList.Empty.Contains(IPAddress.Any));
        Assert.Equal(0, NetworkList.Empty.Count);
    }

    [Fact]
    public void Parse_NoEntries_ReturnsEmpty()
    {
        Assert.Same(NetworkList.Empty, NetworkList.Parse([]));
    }

    [Fact]
    public void Parse_InvalidEntry_ThrowsFormatExceptionWithReason()
    {
        var exception = Assert.Throws<FormatException>(() => NetworkList.Parse(["10.0.0.0/8", "10.1.2.3/8"]));

        Assert.Contains("did you mean 10.0.0.0/8?", exception.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("10.1.2.3", 8, "10.0.0.0")]
    [InlineData("10.1.2.3", 0, "0.0.0.0")]
    [InlineData("10.1.2.3", 32, "10.1.2.3")]
    [InlineData("10.1.2.3", 16, "10.1.0.0")]
    [InlineData("10.1.255.3", 20, "10.1.240.0")]
    [InlineData("255.255.255.255", 1, "128.0.0.0")]
    [InlineData("255.255.255.255", 31, "255.255.255.254")]
    [InlineData("2001:db8:1:2:3:4:5:6", 64, "2001:db8:1:2::")]
    [InlineData("2001:db8:1:2:3:4:5:6", 48, "2001:db8:1::")]
    [InlineData("2001:db8:1:2:3:4:5:6", 60, "2001:db8:1::")]
    [InlineData("2001:db8:1:ff:3:4:5:6", 60, "2001:db8:1:f0::")]
    [InlineData("2001:db8:1:2:3:4:5:6", 128, "2001:db8:1:2:3:4:5:6")]
    [InlineData("2001:db8:1:2:3:4:5:6", 0, "::")]
    public void Mask_ClearsBitsAfterPrefix(string address, int prefixLength, string expected)
    {
        Assert.Equal(IPAddress.Parse(expected), NetworkList.Mask(IPAddress.Parse(address), prefixLength));
    }

    [Fact]
    public void Mask_DoesNotModifyInput()
    {
        var address = IPAddress.Parse("10.1.2.3");

        _ = NetworkList.Mask(address, 8);

        Assert.Equal(IPAddress.Parse("10.1.2.3"), address);
    }
}
