using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Tests.Configuration;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MdvGateway.Gateway.Tests.Hosting;

public sealed class ListenerLimitsTests
{
    private static IReadOnlyList<string> Problems(params (string Key, string? Value)[] changes)
    {
        var settings = GatewaySettings.TryLoad(TestConfiguration.With(changes), out var problems);
        Assert.Equal(problems.Count == 0, settings is not null);
        return problems;
    }

    [Fact]
    public void Defaults_AreTheDocumentedOnes_AndReachKestrel()
    {
        var settings = GatewaySettings.TryLoad(TestConfiguration.With(), out var problems);
        Assert.Empty(problems);
        var limits = new KestrelServerOptions().Limits;

        settings!.Listener.ApplyTo(limits);

        Assert.Equal(TimeSpan.FromSeconds(15), limits.KeepAliveTimeout);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
        Assert.Equal(10_000, limits.MaxConcurrentConnections);
        Assert.Equal(1_000, limits.MaxConcurrentUpgradedConnections);
        Assert.Equal(10 * 1024 * 1024, limits.MaxRequestBodySize);
        Assert.Equal(240, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(5), limits.MinRequestBodyDataRate.GracePeriod);
        Assert.Equal(240, limits.MinResponseDataRate!.BytesPerSecond);
        Assert.Equal(100, limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(TimeSpan.FromSeconds(30), limits.Http2.KeepAlivePingDelay);
    }

    [Fact]
    public void Overrides_FromTheStandardKestrelKeys_ReachKestrel()
    {
        var settings = GatewaySettings.TryLoad(TestConfiguration.With(
            ("Kestrel:Limits:KeepAliveTimeout", "00:01:30"),
            ("Kestrel:Limits:MaxRequestBodySize", "1048576"),
            ("Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond", "1000"),
            ("Kestrel:Limits:MinRequestBodyDataRate:GracePeriod", "00:00:03"),
            ("Kestrel:Limits:Http2:MaxStreamsPerConnection", "32")), out var problems);
        Assert.Empty(problems);
        var limits = new KestrelServerOptions().Limits;

        settings!.Listener.ApplyTo(limits);

        Assert.Equal(TimeSpan.FromSeconds(90), limits.KeepAliveTimeout);
        Assert.Equal(1048576, limits.MaxRequestBodySize);
        Assert.Equal(1000, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.Equal(TimeSpan.FromSeconds(3), limits.MinRequestBodyDataRate.GracePeriod);
        Assert.Equal(32, limits.Http2.MaxStreamsPerConnection);
        Assert.Equal(TimeSpan.FromSeconds(10), limits.RequestHeadersTimeout);
    }

    [Theory]
    [InlineData("Kestrel:Limits:KeepAliveTimout", "00:00:15", "Kestrel:Limits:KeepAliveTimout")]
    [InlineData("Kestrel:Limits:RequestHeadersTimeout", "ten seconds", "Kestrel:Limits:RequestHeadersTimeout")]
    [InlineData("Kestrel:Limits:RequestHeadersTimeout", "00:00:00", "Kestrel:Limits:RequestHeadersTimeout")]
    [InlineData("Kestrel:Limits:KeepAliveTimeout", "-00:00:05", "Kestrel:Limits:KeepAliveTimeout")]
    [InlineData("Kestrel:Limits:MaxConcurrentConnections", "0", "Kestrel:Limits:MaxConcurrentConnections")]
    [InlineData("Kestrel:Limits:MaxRequestBodySize", "-1", "Kestrel:Limits:MaxRequestBodySize")]
    [InlineData("Kestrel:Limits:MaxRequestBodySize", "10MB", "Kestrel:Limits:MaxRequestBodySize")]
    [InlineData("Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond", "0", "Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond")]
    [InlineData("Kestrel:Limits:MinRequestBodyDataRate:GracePeriod", "00:00:01", "Kestrel:Limits:MinRequestBodyDataRate:GracePeriod")]
    [InlineData("Kestrel:Limits:Http2:InitialStreamWindowSize", "1000", "Kestrel:Limits:Http2:InitialStreamWindowSize")]
    [InlineData("Kestrel:Limits:Http2:MaxStreams", "10", "Kestrel:Limits:Http2:MaxStreams")]
    public void BadValue_IsOneProblem_NamingTheKey(string key, string value, string named)
    {
        var problem = Assert.Single(Problems((key, value)));

        Assert.StartsWith(named, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void EndpointsAndOtherKestrelKeys_AreLeftToKestrel()
    {
        Assert.Empty(Problems(("Kestrel:Endpoints:http:Url", "http://127.0.0.1:8080"), ("Kestrel:AddServerHeader", "false")));
    }

    [Fact]
    public void RequestTimeouts_DefaultIsOneMinute_AndPoliciesAreRead()
    {
        var settings = GatewaySettings.TryLoad(TestConfiguration.With(("RequestTimeouts:Policies:export", "00:10:00")), out var problems);

        Assert.Empty(problems);
        Assert.Equal(TimeSpan.FromMinutes(1), settings!.RequestTimeouts.Default);
        Assert.Equal(TimeSpan.FromMinutes(10), settings.RequestTimeouts.Policies["EXPORT"]);
    }

    [Theory]
    [InlineData("RequestTimeouts:Default", "00:00:00", "RequestTimeouts:Default")]
    [InlineData("RequestTimeouts:Default", "2 minutes", "RequestTimeouts:Default")]
    [InlineData("RequestTimeouts:Policies:slow", "2.00:00:00", "RequestTimeouts:Policies:slow")]
    [InlineData("RequestTimeouts:Policies:Disable", "00:00:05", "RequestTimeouts:Policies:Disable")]
    [InlineData("RequestTimeouts:Defualt", "00:00:05", "RequestTimeouts:Defualt")]
    public void RequestTimeouts_BadValue_IsOneProblem_NamingTheKey(string key, string value, string named)
    {
        var problem = Assert.Single(Problems((key, value)));

        Assert.StartsWith(named, problem, StringComparison.Ordinal);
    }
}
