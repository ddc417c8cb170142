using MdvGateway.Gateway.Configuration;

namespace MdvGateway.Gateway.Tests.Configuration;

public sealed class ProxyConfigurationValidatorTests
{
    private static IReadOnlyList<string> Problems(params (string Key, string? Value)[] changes)
    {
        GatewaySettings.TryLoad(TestConfiguration.With(changes), out var problems);
        return problems;
    }

    [Fact]
    public void ValidRoutesAndClusters_AreAccepted()
        => Assert.Empty(Problems());

    [Fact]
    public void RouteNamingAMissingCluster_IsReportedWithItsPathAndTheDefinedClusters()
    {
        var problem = Assert.Single(Problems(("ReverseProxy:Routes:api:ClusterId", "apps")));

        Assert.Equal("ReverseProxy:Routes:api:ClusterId: 'apps' is not defined under ReverseProxy:Clusters (defined: app)", problem);
    }

    [Fact]
    public void ClusterIds_MatchCaseInsensitively_AsYarpDoes()
        => Assert.Empty(Problems(("ReverseProxy:Routes:api:ClusterId", "APP")));

    [Theory]
    [InlineData("127.0.0.1:5080")]
    [InlineData("ftp://127.0.0.1/")]
    [InlineData("/relative")]
    [InlineData("http://")]
    public void DestinationAddress_ThatIsNotAnAbsoluteHttpUrl_IsReported(string address)
    {
        var problem = Assert.Single(Problems(("ReverseProxy:Clusters:app:Destinations:d1:Address", address)));

        Assert.StartsWith("ReverseProxy:Clusters:app:Destinations:d1:Address: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void DestinationWithoutAnAddress_IsReported()
    {
        var problem = Assert.Single(Problems(
            ("ReverseProxy:Clusters:app:Destinations:d1:Address", null),
            ("ReverseProxy:Clusters:app:Destinations:d1:Host", "example.test")));

        Assert.Equal("ReverseProxy:Clusters:app:Destinations:d1:Address: an absolute http:// or https:// URL is required", problem);
    }

    [Fact]
    public void EveryProxyProblem_IsListedTogetherWithTheOtherSections()
    {
        var problems = Problems(
            ("ReverseProxy:Routes:login:ClusterId", "nowhere"),
            ("ReverseProxy:Clusters:app:Destinations:d1:Address", "not a url"),
            ("RateLimiting:Policies:auth:PermitLimit", "0"));

        Assert.Equal(3, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("ReverseProxy:Routes:login:ClusterId:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("ReverseProxy:Clusters:app:Destinations:d1:Address:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:auth:PermitLimit", StringComparison.Ordinal));
    }
}
