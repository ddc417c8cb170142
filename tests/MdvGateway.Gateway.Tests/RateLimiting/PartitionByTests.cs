using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.RateLimiting;

public sealed class PartitionByTests
{
    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("ClientIp")]
    [InlineData(" ClientIp ")]
    public void TryParse_ClientIpOrUnset_ReturnsClientIp(string? text)
    {
        Assert.True(PartitionBy.TryParse(text, out var partitionBy, out var error));
        Assert.Same(PartitionBy.ClientIp, partitionBy);
        Assert.Equal(string.Empty, error);
    }

    [Fact]
    public void TryParse_RouteAndClientIp_ReturnsRouteAndClientIp()
    {
        Assert.True(PartitionBy.TryParse("Route+ClientIp", out var partitionBy, out _));
        Assert.Equal(PartitionKind.RouteAndClientIp, partitionBy.Kind);
        Assert.Null(partitionBy.HeaderName);
    }

    [Theory]
    [InlineData("Header:X-Api-Key", "X-Api-Key")]
    [InlineData("header:X-Api-Key", "X-Api-Key")]
    [InlineData("HEADER:x-tenant", "x-tenant")]
    [InlineData("Header: X-Api-Key ", "X-Api-Key")]
    [InlineData("Header:X_Tenant.Id~1", "X_Tenant.Id~1")]
    public void TryParse_Header_ReturnsHeaderName(string text, string headerName)
    {
        Assert.True(PartitionBy.TryParse(text, out var partitionBy, out var error));
        Assert.Equal(PartitionKind.Header, partitionBy.Kind);
        Assert.Equal(headerName, partitionBy.HeaderName);
        Assert.Equal(string.Empty, error);
    }

    [Theory]
    [InlineData("Header:")]
    [InlineData("Header:   ")]
    [InlineData("Header:X Api")]
    [InlineData("Header:X-Api:Key")]
    [InlineData("Header:X-Api\"Key")]
    [InlineData("Header:(comment)")]
    [InlineData("Header:Ключ")]
    public void TryParse_HeaderWithInvalidName_ReturnsFalse(string text)
    {
        Assert.False(PartitionBy.TryParse(text, out var partitionBy, out var error));
        Assert.Equal($"'{text.Trim()}' does not name a valid HTTP header", error);
        Assert.Same(PartitionBy.ClientIp, partitionBy);
    }

    [Theory]
    [InlineData("Route")]
    [InlineData("Cookie:sid")]
    [InlineData("ClientIp+Route")]
    [InlineData("IP")]
    public void TryParse_UnknownKind_ReturnsFalseListingChoices(string text)
    {
        Assert.False(PartitionBy.TryParse(text, out var partitionBy, out var error));
        Assert.Equal($"'{text}' is not one of ClientIp, Route+ClientIp, Header:<name>", error);
        Assert.Same(PartitionBy.ClientIp, partitionBy);
    }

    [Theory]
    [InlineData("ClientIp")]
    [InlineData("Route+ClientIp")]
    [InlineData("Header:X-Api-Key")]
    public void ToString_ParsedValue_RoundTrips(string text)
    {
        Assert.True(PartitionBy.TryParse(text, out var partitionBy, out _));
        Assert.Equal(text, partitionBy.ToString());
    }
}
