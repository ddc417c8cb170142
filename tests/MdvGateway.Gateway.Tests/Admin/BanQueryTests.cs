using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.IpBans;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.WebUtilities;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class BanQueryTests
{
    private static readonly DateTimeOffset T0 = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private static readonly Ban[] Bans =
    [
        Ban("203.0.113.7", BanOrigins.Auto, T0.AddMinutes(2)),
        Ban("203.0.113.0/24", BanOrigins.Manual, T0.AddMinutes(1)),
        Ban("198.51.100.0/22", BanOrigins.Imported, T0.AddMinutes(3)),
        Ban("198.51.101.9", BanOrigins.Imported, T0.AddMinutes(3)),
        Ban("2001:db8:1:2::/64", BanOrigins.Auto, T0),
        Ban("10.0.0.0/8", BanOrigins.Manual, T0.AddMinutes(4)),
    ];

    private static Ban Ban(string target, string origin, DateTimeOffset createdAt)
        => new() { Target = target, Origin = origin, CreatedAt = createdAt, ExpiresAt = createdAt.AddHours(1), CreatedBy = "test" };

    private static BanQuery Parse(string queryString)
    {
        var query = new QueryCollection(QueryHelpers.ParseQuery(queryString));
        Assert.True(BanQuery.TryParse(query, 64, out var result, out var error), error);
        return result;
    }

    private static string ParseError(string queryString)
    {
        var query = new QueryCollection(QueryHelpers.ParseQuery(queryString));
        Assert.False(BanQuery.TryParse(query, 64, out _, out var error));
        return error;
    }

    private static List<string> Targets(string queryString) => Parse(queryString).Apply(Bans, 64).Page.Select(b => b.Target).ToList();

    [Fact]
    public void Apply_NoFilter_OrdersByCreatedAtThenTarget()
        => Assert.Equal(["2001:db8:1:2::/64", "203.0.113.0/24", "203.0.113.7", "198.51.100.0/22", "198.51.101.9", "10.0.0.0/8"], Targets(""));

    [Theory]
    [InlineData("?ip=203.0.113.7", new[] { "203.0.113.7" })]
    [InlineData("?ip=203.0.113.0/24", new[] { "203.0.113.0/24" })]
    [InlineData("?ip=2001:db8:1:2::abcd", new[] { "2001:db8:1:2::/64" })]
    [InlineData("?ip=203.0.113.8", new string[0])]
    public void Apply_Ip_IsAnExactTargetMatch(string query, string[] expected)
        => Assert.Equal(expected, Targets(query));

    [Theory]
    [InlineData("?contains=203.0.113.7", new[] { "203.0.113.0/24", "203.0.113.7" })]
    [InlineData("?contains=198.51.101.9", new[] { "198.51.100.0/22", "198.51.101.9" })]
    [InlineData("?contains=10.200.3.4", new[] { "10.0.0.0/8" })]
    [InlineData("?contains=2001:db8:1:2::5", new[] { "2001:db8:1:2::/64" })]
    [InlineData("?contains=192.0.2.1", new string[0])]
    public void Apply_ContainsAnAddress_FindsTheBansCoveringIt(string query, string[] expected)
        => Assert.Equal(expected, Targets(query));

    [Theory]
    [InlineData("?contains=198.51.100.0/22", new[] { "198.51.100.0/22", "198.51.101.9" })]
    [InlineData("?contains=198.51.101.0/24", new[] { "198.51.101.9" })]
    [InlineData("?contains=203.0.0.0/16", new[] { "203.0.113.0/24", "203.0.113.7" })]
    [InlineData("?contains=0.0.0.0/0", new[] { "203.0.113.0/24", "203.0.113.7", "198.51.100.0/22", "198.51.101.9", "10.0.0.0/8" })]
    [InlineData("?contains=2001:db8::/32", new[] { "2001:db8:1:2::/64" })]
    [InlineData("?contains=10.1.0.0/16", new string[0])]
    public void Apply_ContainsARange_FindsTheBansInsideIt(string query, string[] expected)
        => Assert.Equal(expected, Targets(query));

    [Fact]
    public void Apply_Origin_Filters()
        => Assert.Equal(["198.51.100.0/22", "198.51.101.9"], Targets("?origin=imported"));

    [Fact]
    public void Apply_SinceIsInclusiveUntilIsExclusive()
        => Assert.Equal(["203.0.113.0/24", "203.0.113.7"], Targets("?since=2026-11-25T10:01:00Z&until=2026-11-25T10:03:00Z"));

    [Fact]
    public void Apply_FiltersCombine()
        => Assert.Equal(["198.51.101.9"], Targets("?contains=198.51.101.0/24&origin=imported&since=2026-11-25T10:03:00Z"));

    [Fact]
    public void Apply_Paging_CountsAllAndReturnsTheRequestedSlice()
    {
        var (total, page) = Parse("?limit=2&offset=2").Apply(Bans, 64);

        Assert.Equal(6, total);
        Assert.Equal(["203.0.113.7", "198.51.100.0/22"], page.Select(b => b.Target));
        Assert.Empty(Parse("?offset=6").Apply(Bans, 64).Page);
    }

    [Fact]
    public void Apply_SameInputInAnotherOrder_GivesTheSamePages()
    {
        var query = Parse("?limit=3&offset=1");

        Assert.Equal(query.Apply(Bans, 64).Page, query.Apply(Bans.Reverse(), 64).Page);
    }

    [Fact]
    public void TryParse_Defaults()
    {
        var query = Parse("");

        Assert.Equal(100, query.Limit);
        Assert.Equal(0, query.Offset);
        Assert.False(query.Csv);
        Assert.True(Parse("?format=csv").Csv);
    }

    [Theory]
    [InlineData("?ip=nope", "ip:")]
    [InlineData("?ip=", "ip:")]
    [InlineData("?contains=10.1.2.3/8", "contains:")]
    [InlineData("?origin=robot", "origin:")]
    [InlineData("?since=yesterday", "since:")]
    [InlineData("?until=2026-02-30", "until:")]
    [InlineData("?since=2026-11-26&until=2026-11-25", "since must be earlier")]
    [InlineData("?limit=0", "limit:")]
    [InlineData("?limit=10001", "limit:")]
    [InlineData("?limit=-1", "limit:")]
    [InlineData("?limit=ten", "limit:")]
    [InlineData("?offset=-1", "offset:")]
    [InlineData("?format=xml", "format:")]
    [InlineData("?orgin=auto", "unknown query parameter 'orgin'")]
    [InlineData("?ip=1.2.3.4&ip=1.2.3.5", "more than once")]
    public void TryParse_BadParameter_SaysWhich(string query, string expected)
        => Assert.Contains(expected, ParseError(query), StringComparison.Ordinal);
}
