using System.Net;
using Microsoft.AspNetCore.Http;
using static MdvGateway.Gateway.Admin.ApiKeyAuthenticationMiddleware;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class ApiKeyAuthenticationMiddlewareTests
{
    private static (KeyPresence Presence, string Key) Read(params (string Name, string Value)[] headers)
    {
        var dictionary = new HeaderDictionary();
        foreach (var (name, value) in headers)
        {
            dictionary.Append(name, value);
        }

        var presence = ReadKey(dictionary, out var key);
        return (presence, key);
    }

    [Theory]
    [InlineData("Authorization", "ApiKey k-123", "k-123")]
    [InlineData("Authorization", "apikey k-123", "k-123")]
    [InlineData("Authorization", "ApiKey   k-123  ", "k-123")]
    [InlineData("X-Api-Key", "k-123", "k-123")]
    [InlineData("x-api-key", " k-123 ", "k-123")]
    public void ReadKey_EitherHeaderForm_ReturnsTheKey(string header, string value, string expected)
    {
        var (presence, key) = Read((header, value));

        Assert.Equal(KeyPresence.Present, presence);
        Assert.Equal(expected, key);
    }

    [Theory]
    [InlineData("Authorization", "Bearer k-123")]
    [InlineData("Authorization", "ApiKey")]
    [InlineData("Authorization", "ApiKey ")]
    [InlineData("Authorization", "ApiKeyk-123")]
    [InlineData("X-Api-Key", "")]
    [InlineData("Cookie", "k-123")]
    public void ReadKey_NoApiKey_IsMissing(string header, string value)
        => Assert.Equal(KeyPresence.Missing, Read((header, value)).Presence);

    [Fact]
    public void ReadKey_BothHeaders_IsAmbiguous()
        => Assert.Equal(KeyPresence.Ambiguous, Read(("Authorization", "ApiKey a"), ("X-Api-Key", "a")).Presence);

    [Fact]
    public void ReadKey_RepeatedHeader_IsAmbiguous()
        => Assert.Equal(KeyPresence.Ambiguous, Read(("X-Api-Key", "a"), ("X-Api-Key", "b")).Presence);

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    [InlineData("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64")]
    public void ClientKey_CountsIpv6ClientsByPrefix(string address, string expected)
        => Assert.Equal(expected, ClientKey(IPAddress.Parse(address), 64));
}
