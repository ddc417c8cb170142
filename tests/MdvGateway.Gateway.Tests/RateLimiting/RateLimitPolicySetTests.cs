using System.Net;
using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.RateLimiting;

public sealed class RateLimitPolicySetTests
{
    private static RateLimitingOptions Options(string? defaultPolicy = "per-ip") => new()
    {
        DefaultPolicy = defaultPolicy,
        WhenStoreUnavailable = StoreUnavailableBehavior.Reject,
        Exempt = ["10.1.2.0/24", "2001:db8::/32"],
        Policies = new(StringComparer.OrdinalIgnoreCase)
        {
            ["per-ip"] = new() { PermitLimit = 100, Window = TimeSpan.FromSeconds(1) },
            ["auth"] = new() { PermitLimit = 5, Window = TimeSpan.FromMinutes(1), PartitionBy = "Route+ClientIp" },
            ["partner"] = new() { PermitLimit = 1000, Window = TimeSpan.FromMinutes(1), PartitionBy = "Header:X-Api-Key", Mode = RateLimitMode.Shadow },
            ["burst"] = new()
            {
                Limits =
                [
                    new() { PermitLimit = 10, Window = TimeSpan.FromSeconds(1) },
                    new() { Name = "daily", PermitLimit = 10_000, Window = TimeSpan.FromDays(1) },
                    new() { PermitLimit = 1000, Window = TimeSpan.FromHours(1) },
                ],
            },
        },
    };

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("Default")]
    [InlineData("default")]
    public void Resolve_EmptyOrDefault_ReturnsDefaultPolicy(string? routePolicy)
    {
        var set = RateLimitPolicySet.Create(Options());

        var policy = set.Resolve(routePolicy);

        Assert.NotNull(policy);
        Assert.Same(set.DefaultPolicy, policy);
        Assert.Equal("per-ip", policy.Name);
    }

    [Fact]
    public void Resolve_NamedPolicy_ReturnsIt()
    {
        var policy = RateLimitPolicySet.Create(Options()).Resolve("auth");

        Assert.NotNull(policy);
        Assert.Equal("auth", policy.Name);
        Assert.Equal(new RateLimit("auth", 5, TimeSpan.FromMinutes(1)), Assert.Single(policy.Limits));
    }

    [Theory]
    [InlineData("nope")]
    [InlineData("Disable")]
    [InlineData("AUTH")]
    public void Resolve_UnknownName_ReturnsNull(string routePolicy)
    {
        Assert.Null(RateLimitPolicySet.Create(Options()).Resolve(routePolicy));
    }

    [Fact]
    public void Resolve_NoDefaultPolicyConfigured_ReturnsNullForUnnamedRoutes()
    {
        var set = RateLimitPolicySet.Create(Options(defaultPolicy: null));

        Assert.Null(set.DefaultPolicy);
        Assert.Null(set.Resolve(null));
        Assert.Null(set.Resolve("Default"));
        Assert.NotNull(set.Resolve("per-ip"));
    }

    [Fact]
    public void Create_MultiLimitPolicy_NamesUnnamedLimitsByPolicyAndWindow()
    {
        var policy = RateLimitPolicySet.Create(Options()).Resolve("burst")!;

        Assert.Equal(["burst-1s", "daily", "burst-3600s"], policy.Limits.Select(l => l.Name));
        Assert.Equal([10, 10_000, 1000], policy.Limits.Select(l => l.PermitLimit));
        Assert.Equal("\"burst-1s\";q=10;w=1, \"daily\";q=10000;w=86400, \"burst-3600s\";q=1000;w=3600", policy.PolicyHeaderValue);
    }

    [Fact]
    public void Create_FractionalWindow_DefaultNameRoundsUp()
    {
        var options = new RateLimitingOptions
        {
            Policies = { ["p"] = new() { Limits = [new() { PermitLimit = 1, Window = TimeSpan.FromMilliseconds(1500) }] } },
        };

        var policy = RateLimitPolicySet.Create(options).Resolve("p")!;

        Assert.Equal("p-2s", Assert.Single(policy.Limits).Name);
    }

    [Fact]
    public void Create_SingleLimitPolicy_NamesLimitAfterPolicy()
    {
        var policy = RateLimitPolicySet.Create(Options()).Resolve("per-ip")!;

        Assert.Equal("per-ip", Assert.Single(policy.Limits).Name);
        Assert.Equal("\"per-ip\";q=100;w=1", policy.PolicyHeaderValue);
    }

    [Fact]
    public void Create_CopiesPartitioningAndMode()
    {
        var set = RateLimitPolicySet.Create(Options());

        Assert.Equal(PartitionKind.RouteAndClientIp, set.Resolve("auth")!.PartitionBy.Kind);
        Assert.Equal(new PartitionBy(PartitionKind.Header, "X-Api-Key"), set.Resolve("partner")!.PartitionBy);
        Assert.Equal(RateLimitMode.Shadow, set.Resolve("partner")!.Mode);
        Assert.Equal(RateLimitMode.Enforce, set.Resolve("per-ip")!.Mode);
        Assert.Same(PartitionBy.ClientIp, set.Resolve("per-ip")!.PartitionBy);
    }

    [Fact]
    public void Create_CopiesExemptionsAndStoreBehavior()
    {
        var set = RateLimitPolicySet.Create(Options());

        Assert.Equal(StoreUnavailableBehavior.Reject, set.WhenStoreUnavailable);
        Assert.Equal(2, set.Exempt.Count);
        Assert.True(set.Exempt.Contains(IPAddress.Parse("10.1.2.3")));
        Assert.True(set.Exempt.Contains(IPAddress.Parse("2001:db8::7")));
        Assert.False(set.Exempt.Contains(IPAddress.Parse("10.1.3.3")));
    }

    [Fact]
    public void Create_ListsEveryPolicy()
    {
        var set = RateLimitPolicySet.Create(Options());

        Assert.Equal(["auth", "burst", "partner", "per-ip"], set.Policies.Select(p => p.Name).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Create_InvalidPartitionBy_Throws()
    {
        var options = new RateLimitingOptions
        {
            Policies = { ["p"] = new() { PermitLimit = 1, Window = TimeSpan.FromSeconds(1), PartitionBy = "Cookie" } },
        };

        Assert.Throws<InvalidOperationException>(() => RateLimitPolicySet.Create(options));
    }
}
