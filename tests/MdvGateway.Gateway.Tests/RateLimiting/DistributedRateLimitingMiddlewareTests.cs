using System.Net;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;
using Microsoft.AspNetCore.Http;
using Identity = MdvGateway.Gateway.ClientIdentity.ClientIdentity;

namespace MdvGateway.Gateway.Tests.RateLimiting;

public sealed class DistributedRateLimitingMiddlewareTests
{
    private static readonly Identity V4Client = new(IPAddress.Parse("203.0.113.5"), "203.0.113.5");
    private static readonly Identity V6Client = new(IPAddress.Parse("2001:db8:1:2::1"), "2001:db8:1:2::/64");
    private static readonly PartitionBy ApiKeyHeader = new(PartitionKind.Header, "X-Api-Key");

    private static HttpRequest Request(params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        foreach (var (name, value) in headers)
        {
            context.Request.Headers.Append(name, value);
        }

        return context.Request;
    }

    [Fact]
    public void PartitionValue_ClientIp_IsClientKey()
    {
        Assert.Equal("203.0.113.5", DistributedRateLimitingMiddleware.PartitionValue(PartitionBy.ClientIp, "api", V4Client, Request()));
        Assert.Equal("2001:db8:1:2::/64", DistributedRateLimitingMiddleware.PartitionValue(PartitionBy.ClientIp, "api", V6Client, Request()));
    }

    [Fact]
    public void PartitionValue_ClientIpWithApiKeyPresent_IgnoresHeader()
    {
        var value = DistributedRateLimitingMiddleware.PartitionValue(PartitionBy.ClientIp, "api", V4Client, Request(("X-Api-Key", "k")));

        Assert.Equal("203.0.113.5", value);
    }

    [Fact]
    public void PartitionValue_RouteAndClientIp_PrefixesRouteId()
    {
        var value = DistributedRateLimitingMiddleware.PartitionValue(PartitionBy.RouteAndClientIp, "login-v2.0_x", V4Client, Request());

        Assert.Equal("login-v2.0_x:203.0.113.5", value);
    }

    [Fact]
    public void PartitionValue_RouteAndClientIp_DifferentRoutesDiffer()
    {
        var api = DistributedRateLimitingMiddleware.PartitionValue(PartitionBy.RouteAndClientIp, "api", V4Client, Request());
        var login = DistributedRateLimitingMiddleware.PartitionValue(PartitionBy.RouteAndClientIp, "login", V4Client, Request());

        Assert.NotEqual(api, login);
    }

    [Theory]
    [InlineData("route{1}")]
    [InlineData("{")]
    [InlineData("a}b")]
    [InlineData("route:1")]
    [InlineData("my route")]
    [InlineData("marché")]
    public void PartitionValue_RouteIdWithUnsafeCharacters_IsDigested(string routeId)
    {
        var value = DistributedRateLimitingMiddleware.PartitionValue(PartitionBy.RouteAndClientIp, routeId, V4Client, Request());

        Assert.Equal(RedisKeys.Digest(routeId) + ":203.0.113.5", value);
        Assert.DoesNotContain('{', value);
        Assert.DoesNotContain('}', value);
    }

    [Fact]
    public void PartitionValue_HeaderPresent_IsDigestNeverRawValue()
    {
        const string apiKey = "sk_live_SuperSecret-123";

        var value = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("X-Api-Key", apiKey)));

        Assert.Equal("h." + RedisKeys.Digest(apiKey), value);
        Assert.DoesNotContain(apiKey, value, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("SuperSecret", value, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("203.0.113.5", value, StringComparison.Ordinal);
    }

    [Fact]
    public void PartitionValue_HeaderWithBraces_ContainsNoBraces()
    {
        var value = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("X-Api-Key", "{tag}")));

        Assert.DoesNotContain('{', value);
        Assert.DoesNotContain('}', value);
    }

    [Fact]
    public void PartitionValue_SameHeaderFromDifferentClients_SharesPartition()
    {
        var first = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("X-Api-Key", "k1")));
        var second = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "other", V6Client, Request(("X-Api-Key", "k1")));

        Assert.Equal(first, second);
    }

    [Fact]
    public void PartitionValue_DifferentHeaderValues_Differ()
    {
        var first = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("X-Api-Key", "k1")));
        var second = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("X-Api-Key", "k2")));

        Assert.NotEqual(first, second);
    }

    [Fact]
    public void PartitionValue_HeaderNameInOtherCase_IsFound()
    {
        var value = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("x-api-key", "k1")));

        Assert.Equal("h." + RedisKeys.Digest("k1"), value);
    }

    [Fact]
    public void PartitionValue_HeaderRepeated_UsesFirstValue()
    {
        var value = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("X-Api-Key", "k1"), ("X-Api-Key", "k2")));

        Assert.Equal("h." + RedisKeys.Digest("k1"), value);
    }

    [Fact]
    public void PartitionValue_HeaderAbsent_IsClientKey()
    {
        Assert.Equal("203.0.113.5", DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("X-Other", "k1"))));
        Assert.Equal("2001:db8:1:2::/64", DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V6Client, Request()));
    }

    [Fact]
    public void PartitionValue_HeaderEmpty_IsClientKey()
    {
        var value = DistributedRateLimitingMiddleware.PartitionValue(ApiKeyHeader, "api", V4Client, Request(("X-Api-Key", string.Empty)));

        Assert.Equal("203.0.113.5", value);
    }
}
