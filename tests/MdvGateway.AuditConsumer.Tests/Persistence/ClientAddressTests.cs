using MdvGateway.AuditConsumer.Persistence;

namespace MdvGateway.AuditConsumer.Tests.Persistence;

public sealed class ClientAddressTests
{
    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7", 32)]
    [InlineData("203.0.113.0/24", "203.0.113.0", 24)]
    [InlineData("0.0.0.0/0", "0.0.0.0", 0)]
    [InlineData("2001:db8::1", "2001:db8::1", 128)]
    [InlineData("2001:db8::/64", "2001:db8::", 64)]
    [InlineData("::ffff:203.0.113.7", "::ffff:203.0.113.7", 128)]
    public void TryParse_AddressOrBlock_KeepsAddressAndPrefix(string text, string address, int prefix)
    {
        Assert.True(ClientAddress.TryParse(text, out var inet));
        Assert.Equal(address, inet.Address.ToString());
        Assert.Equal(prefix, inet.Netmask);
    }

    [Theory]
    [InlineData("10.1")]
    [InlineData("10.1.2")]
    [InlineData("1.2.3.256")]
    [InlineData("01.2.3.4.5")]
    [InlineData("1.2.3.4/")]
    [InlineData("1.2.3.4/-1")]
    [InlineData("1.2.3.4/+8")]
    [InlineData("1.2.3.4/33")]
    [InlineData("2001:db8::/129")]
    [InlineData("fe80::1%2")]
    [InlineData(" 1.2.3.4")]
    [InlineData("1.2.3.4/24/8")]
    [InlineData("example.org")]
    public void TryParse_AnythingElse_Fails(string text) => Assert.False(ClientAddress.TryParse(text, out _));
}
