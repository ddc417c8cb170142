using System.Net;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.RateLimiting;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Primitives;

namespace MdvGateway.Gateway.Tests.Configuration;

public sealed class GatewaySettingsTests
{
    private static IReadOnlyList<string> Problems(IConfiguration configuration)
    {
        var settings = GatewaySettings.TryLoad(configuration, out var problems);
        if (problems.Count > 0)
        {
            Assert.Null(settings);
        }

        return problems;
    }

    private static string SingleProblem(params (string Key, string? Value)[] changes)
        => Assert.Single(Problems(TestConfiguration.With(changes)));

    [Fact]
    public void TryLoad_ValidConfiguration_ReturnsSettingsWithoutProblems()
    {
        var settings = GatewaySettings.TryLoad(TestConfiguration.With(), out var problems);

        Assert.Empty(problems);
        Assert.NotNull(settings);
        Assert.Equal("per-ip", settings.RateLimits.DefaultPolicy?.Name);
    }

    [Fact]
    public void TryLoad_EmptyConfiguration_UsesDefaults()
    {
        var settings = GatewaySettings.TryLoad(TestConfiguration.Build(new Dictionary<string, string?>()), out var problems);

        Assert.Empty(problems);
        Assert.NotNull(settings);
        Assert.Null(settings.RateLimits.DefaultPolicy);
        Assert.Empty(settings.RateLimits.Policies);
        Assert.Equal("mdv", settings.Redis.KeyPrefix);
        Assert.Equal(250, settings.Redis.TimeoutMs);
        Assert.Equal(5, settings.Redis.BreakAfterFailures);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Redis.BreakDuration);
        Assert.Equal(StoreUnavailableBehavior.FallbackToLocal, settings.RateLimits.WhenStoreUnavailable);
    }

    [Fact]
    public void TryLoad_UnknownPolicyKey_ReportsFullPath()
    {
        var problem = SingleProblem(("RateLimiting:Policies:auth:OnBreach", "Ban"));

        Assert.StartsWith("RateLimiting:Policies:auth:OnBreach", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("1000001")]
    public void TryLoad_PermitLimitOutOfRange_ReportsIt(string value)
    {
        var problem = SingleProblem(("RateLimiting:Policies:auth:PermitLimit", value));

        Assert.Equal($"RateLimiting:Policies:auth:PermitLimit: {value} must be between 1 and 1000000", problem);
    }

    [Theory]
    [InlineData("1")]
    [InlineData("1000000")]
    public void TryLoad_PermitLimitAtBounds_IsAccepted(string value)
    {
        Assert.Empty(Problems(TestConfiguration.With(("RateLimiting:Policies:auth:PermitLimit", value))));
    }

    [Fact]
    public void TryLoad_PermitLimitNotANumber_ReportsIt()
    {
        var problem = SingleProblem(("RateLimiting:Policies:auth:PermitLimit", "ten"));

        Assert.StartsWith("RateLimiting:Policies:auth:PermitLimit: 'ten'", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("1m")]
    [InlineData("abc")]
    public void TryLoad_UnparsableWindow_ReportsIt(string value)
    {
        var problem = SingleProblem(("RateLimiting:Policies:auth:Window", value));

        Assert.StartsWith($"RateLimiting:Policies:auth:Window: '{value}' is not a valid duration", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00")]
    [InlineData("00:00:00.999")]
    [InlineData("-00:00:01")]
    [InlineData("7.00:00:01")]
    public void TryLoad_WindowOutOfRange_ReportsIt(string value)
    {
        var problem = SingleProblem(("RateLimiting:Policies:auth:Window", value));

        Assert.StartsWith("RateLimiting:Policies:auth:Window: ", problem, StringComparison.Ordinal);
        Assert.Contains("must be between 00:00:01 and 7.00:00:00", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:01")]
    [InlineData("7.00:00:00")]
    public void TryLoad_WindowAtBounds_IsAccepted(string value)
    {
        Assert.Empty(Problems(TestConfiguration.With(("RateLimiting:Policies:auth:Window", value))));
    }

    [Fact]
    public void TryLoad_PolicyWithoutWindow_ReportsWindowRequired()
    {
        var problem = SingleProblem(("RateLimiting:Policies:auth:Window", null));

        Assert.StartsWith("RateLimiting:Policies:auth:Window: is required", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_PolicyWithoutAnyLimit_ReportsPermitLimitAndWindowRequired()
    {
        var problems = Problems(TestConfiguration.With(("RateLimiting:Policies:empty:Mode", "Shadow")));

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:empty:PermitLimit: is required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:empty:Window: is required", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("10.1.2.3/8", "did you mean 10.0.0.0/8?")]
    [InlineData("not-an-ip", "'not-an-ip' is not a valid IP address or CIDR range")]
    [InlineData("10.0.0.0/33", "prefix length above 32")]
    public void TryLoad_BadExemptEntry_ReportsIndexedPath(string entry, string expected)
    {
        var problem = SingleProblem(("RateLimiting:Exempt:0", "192.0.2.0/24"), ("RateLimiting:Exempt:1", entry));

        Assert.StartsWith("RateLimiting:Exempt:1: ", problem, StringComparison.Ordinal);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_BadExemptAtFirstIndex_ReportsIndexZero()
    {
        var problem = SingleProblem(("RateLimiting:Exempt:0", "10.1.2.3/8"));

        Assert.StartsWith("RateLimiting:Exempt:0: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_BadTrustedProxy_ReportsIndexedPath()
    {
        var problem = SingleProblem(("ClientIp:TrustedProxies:0", "10.0.0.0/8"), ("ClientIp:TrustedProxies:1", "10.1.2.3/8"));

        Assert.StartsWith("ClientIp:TrustedProxies:1: ", problem, StringComparison.Ordinal);
        Assert.Contains("did you mean 10.0.0.0/8?", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_TrustedProxiesGivenAsScalar_ReportsExpectedList()
    {
        var problem = SingleProblem(("ClientIp:TrustedProxies", "10.0.0.0/8"));

        Assert.Equal("ClientIp:TrustedProxies: expected a list, found the value '10.0.0.0/8'", problem);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("129")]
    public void TryLoad_IPv6PrefixLengthOutOfRange_ReportsIt(string value)
    {
        var problem = SingleProblem(("ClientIp:IPv6PrefixLength", value));

        Assert.StartsWith($"ClientIp:IPv6PrefixLength: {value} must be between 1 and 128", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_RouteNamesUndefinedPolicy_ReportsRoutePathAndDefinedPolicies()
    {
        var problem = SingleProblem(("ReverseProxy:Routes:api:RateLimiterPolicy", "nope"));

        Assert.Equal("ReverseProxy:Routes:api:RateLimiterPolicy: 'nope' is not defined under RateLimiting:Policies (defined: auth, per-ip)", problem);
    }

    [Fact]
    public void TryLoad_RoutePolicyDiffersOnlyInCase_HintsAtCaseSensitivity()
    {
        var problem = SingleProblem(("ReverseProxy:Routes:login:RateLimiterPolicy", "Auth"));

        Assert.StartsWith("ReverseProxy:Routes:login:RateLimiterPolicy: 'Auth' is not defined", problem, StringComparison.Ordinal);
        Assert.Contains("policy names are case-sensitive; did you mean 'auth'?", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_RouteNamesPolicyWhenNoneDefined_SaysSo()
    {
        var problems = Problems(TestConfiguration.Build(new Dictionary<string, string?>
        {
            ["ReverseProxy:Routes:api:RateLimiterPolicy"] = "per-ip",
        }));

        var problem = Assert.Single(problems);
        Assert.EndsWith("(no policies are defined)", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Disable")]
    [InlineData("disable")]
    [InlineData("Default")]
    [InlineData("default")]
    [InlineData("")]
    public void TryLoad_RouteWithReservedOrEmptyPolicy_IsAccepted(string value)
    {
        Assert.Empty(Problems(TestConfiguration.With(("ReverseProxy:Routes:api:RateLimiterPolicy", value))));
    }

    [Fact]
    public void TryLoad_RouteWithoutPolicy_IsAccepted()
    {
        Assert.Empty(Problems(TestConfiguration.With(("ReverseProxy:Routes:api:RateLimiterPolicy", null))));
    }

    [Theory]
    [InlineData("Disable")]
    [InlineData("default")]
    public void TryLoad_PolicyWithReservedName_IsRejected(string name)
    {
        var problem = SingleProblem(
            ($"RateLimiting:Policies:{name}:PermitLimit", "5"),
            ($"RateLimiting:Policies:{name}:Window", "00:00:01"));

        Assert.StartsWith($"RateLimiting:Policies:{name}: '{name}' is reserved", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_PolicyNameWithInvalidCharacters_IsRejected()
    {
        var problem = SingleProblem(
            ("RateLimiting:Policies:per ip:PermitLimit", "5"),
            ("RateLimiting:Policies:per ip:Window", "00:00:01"));

        Assert.StartsWith("RateLimiting:Policies:per ip: the policy name must be", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_DefaultPolicyUndefined_ReportsIt()
    {
        var problem = SingleProblem(("RateLimiting:DefaultPolicy", "nope"));

        Assert.StartsWith("RateLimiting:DefaultPolicy: 'nope' is not defined under RateLimiting:Policies", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_DefaultPolicyDiffersOnlyInCase_DoesNotThrow()
    {
        IReadOnlyList<string> problems = [];
        GatewaySettings? settings = null;

        var exception = Record.Exception(() => settings = GatewaySettings.TryLoad(TestConfiguration.With(("RateLimiting:DefaultPolicy", "PER-IP")), out problems));

        Assert.Null(exception);
        // Either a clear problem (as for routes) or the policy it names; never a crash.
        Assert.True(
            problems.Any(p => p.StartsWith("RateLimiting:DefaultPolicy:", StringComparison.Ordinal))
            || settings?.RateLimits.DefaultPolicy?.Name == "per-ip");
    }

    [Fact]
    public void TryLoad_BothPermitLimitAndLimits_ReportsIt()
    {
        var problem = SingleProblem(
            ("RateLimiting:Policies:auth:Limits:0:PermitLimit", "10"),
            ("RateLimiting:Policies:auth:Limits:0:Window", "00:00:01"));

        Assert.Equal("RateLimiting:Policies:auth: set either PermitLimit and Window, or Limits, not both", problem);
    }

    [Fact]
    public void TryLoad_EmptyLimitsList_ReportsIt()
    {
        var configuration = TestConfiguration.FromJson("""
            { "RateLimiting": { "Policies": { "multi": { "Limits": [] } } } }
            """);

        var problems = Problems(configuration);

        Assert.NotEmpty(problems);
        Assert.All(problems, p => Assert.StartsWith("RateLimiting:Policies:multi", p, StringComparison.Ordinal));
    }

    [Fact]
    public void TryLoad_LimitsWithoutNamesAndSameWindow_ReportsDuplicateDefaultName()
    {
        var problem = SingleProblem(
            ("RateLimiting:Policies:multi:Limits:0:PermitLimit", "10"),
            ("RateLimiting:Policies:multi:Limits:0:Window", "00:00:01"),
            ("RateLimiting:Policies:multi:Limits:1:PermitLimit", "20"),
            ("RateLimiting:Policies:multi:Limits:1:Window", "00:00:01"));

        Assert.StartsWith("RateLimiting:Policies:multi:Limits:1: two limits of this policy are both named 'multi-1s'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_LimitWindowsRoundingToSameSecond_ReportsDuplicateDefaultName()
    {
        var problem = SingleProblem(
            ("RateLimiting:Policies:multi:Limits:0:PermitLimit", "10"),
            ("RateLimiting:Policies:multi:Limits:0:Window", "00:00:01.5"),
            ("RateLimiting:Policies:multi:Limits:1:PermitLimit", "20"),
            ("RateLimiting:Policies:multi:Limits:1:Window", "00:00:02"));

        Assert.Contains("both named 'multi-2s'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_LimitNamesDifferingOnlyInCase_ReportsDuplicate()
    {
        var problem = SingleProblem(
            ("RateLimiting:Policies:multi:Limits:0:Name", "burst"),
            ("RateLimiting:Policies:multi:Limits:0:PermitLimit", "10"),
            ("RateLimiting:Policies:multi:Limits:0:Window", "00:00:01"),
            ("RateLimiting:Policies:multi:Limits:1:Name", "BURST"),
            ("RateLimiting:Policies:multi:Limits:1:PermitLimit", "20"),
            ("RateLimiting:Policies:multi:Limits:1:Window", "00:01:00"));

        Assert.StartsWith("RateLimiting:Policies:multi:Limits:1: two limits of this policy are both named 'BURST'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_LimitWithInvalidName_ReportsIt()
    {
        var problem = SingleProblem(
            ("RateLimiting:Policies:multi:Limits:0:Name", "bad name"),
            ("RateLimiting:Policies:multi:Limits:0:PermitLimit", "10"),
            ("RateLimiting:Policies:multi:Limits:0:Window", "00:00:01"));

        Assert.StartsWith("RateLimiting:Policies:multi:Limits:0:Name: 'bad name'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_LimitMissingValues_ReportsEachWithIndex()
    {
        var problems = Problems(TestConfiguration.With(("RateLimiting:Policies:multi:Limits:0:Name", "burst")));

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:multi:Limits:0:PermitLimit: 0 must be between", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:multi:Limits:0:Window: 00:00:00 must be between", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Cookie:sid", "'Cookie:sid' is not one of ClientIp, Route+ClientIp, Header:<name>")]
    [InlineData("Route", "'Route' is not one of ClientIp, Route+ClientIp, Header:<name>")]
    [InlineData("Header:", "'Header:' does not name a valid HTTP header")]
    [InlineData("Header:X Api Key", "'Header:X Api Key' does not name a valid HTTP header")]
    public void TryLoad_BadPartitionBy_ReportsIt(string value, string expected)
    {
        var problem = SingleProblem(("RateLimiting:Policies:auth:PartitionBy", value));

        Assert.Equal($"RateLimiting:Policies:auth:PartitionBy: {expected}", problem);
    }

    [Theory]
    [InlineData("Loud")]
    [InlineData("1")]
    public void TryLoad_BadMode_ReportsIt(string value)
    {
        var problem = SingleProblem(("RateLimiting:Policies:auth:Mode", value));

        Assert.StartsWith($"RateLimiting:Policies:auth:Mode: '{value}' is not a valid value", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_ModeAsJsonNumber_IsRejected()
    {
        var configuration = TestConfiguration.FromJson("""
            { "RateLimiting": { "Policies": { "auth": { "PermitLimit": 5, "Window": "00:01:00", "Mode": 1 } } } }
            """);

        var problem = Assert.Single(Problems(configuration));

        Assert.StartsWith("RateLimiting:Policies:auth:Mode: '1'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_TrustedProxiesAsJsonString_IsRejected()
    {
        var configuration = TestConfiguration.FromJson("""
            { "ClientIp": { "TrustedProxies": "10.0.0.0/8" } }
            """);

        var problem = Assert.Single(Problems(configuration));

        Assert.Equal("ClientIp:TrustedProxies: expected a list, found the value '10.0.0.0/8'", problem);
    }

    [Theory]
    [InlineData("mdv{1}")]
    [InlineData("mdv:prod")]
    [InlineData("mdv prod")]
    public void TryLoad_KeyPrefixWithForbiddenCharacter_ReportsIt(string value)
    {
        var problem = SingleProblem(("Redis:KeyPrefix", value));

        Assert.Equal($"Redis:KeyPrefix: '{value}' must be 1-64 letters, digits, '-', '_' or '.'", problem);
    }

    [Fact]
    public void TryLoad_EmptyKeyPrefix_ReportsIt()
    {
        var problem = SingleProblem(("Redis:KeyPrefix", string.Empty));

        Assert.StartsWith("Redis:KeyPrefix: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_EmptyKeyPrefixInJson_ReportsIt()
    {
        var problem = Assert.Single(Problems(TestConfiguration.FromJson("""{ "Redis": { "KeyPrefix": "" } }""")));

        Assert.StartsWith("Redis:KeyPrefix: ", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("60001")]
    public void TryLoad_TimeoutMsOutOfRange_ReportsIt(string value)
    {
        var problem = SingleProblem(("Redis:TimeoutMs", value));

        Assert.Equal($"Redis:TimeoutMs: {value} must be between 1 and 60000", problem);
    }

    [Fact]
    public void TryLoad_BreakAfterFailuresZero_ReportsIt()
    {
        var problem = SingleProblem(("Redis:BreakAfterFailures", "0"));

        Assert.StartsWith("Redis:BreakAfterFailures: 0 must be between 1 and 10000", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("00:00:00.05")]
    [InlineData("00:10:01")]
    public void TryLoad_BreakDurationOutOfRange_ReportsIt(string value)
    {
        var problem = SingleProblem(("Redis:BreakDuration", value));

        Assert.StartsWith("Redis:BreakDuration: ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_EmptyRedisConfiguration_ReportsIt()
    {
        var problem = SingleProblem(("Redis:Configuration", " "));

        Assert.StartsWith("Redis:Configuration: must name at least one Redis endpoint", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("not a url")]
    [InlineData("127.0.0.1:8081")]
    [InlineData("ftp://127.0.0.1:8081")]
    [InlineData("http://127.0.0.1:8081/admin")]
    public void TryLoad_AdminUrlsNotAUrl_ReportsIt(string value)
    {
        var problem = SingleProblem(("Admin:Urls", value));

        Assert.Equal($"Admin:Urls: '{value}' is not an http(s)://host:port URL", problem);
    }

    [Fact]
    public void TryLoad_AdminUrlsWithOneBadEntry_ReportsOnlyThatEntry()
    {
        var problem = SingleProblem(("Admin:Urls", "http://127.0.0.1:8081; nope ;https://[::1]:8443"));

        Assert.Equal("Admin:Urls: 'nope' is not an http(s)://host:port URL", problem);
    }

    [Theory]
    [InlineData("")]
    [InlineData("http://127.0.0.1:8081;https://[::1]:8443")]
    [InlineData("http://0.0.0.0:8081")]
    public void TryLoad_AdminUrlsValidOrEmpty_IsAccepted(string value)
    {
        Assert.Empty(Problems(TestConfiguration.With(("Admin:Urls", value))));
    }

    [Fact]
    public void TryLoad_UnknownAdminKey_ReportsIt()
    {
        var problem = SingleProblem(("Admin:Port", "8081"));

        Assert.StartsWith("Admin:Port: unknown key 'Port'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_ProblemsAcrossEverySection_ReportsAllInOneCall()
    {
        var configuration = TestConfiguration.With(
            ("Redis:TimeoutMs", "0"),
            ("Redis:KeyPrefix", "a{b}"),
            ("ClientIp:TrustedProxies:0", "bogus"),
            ("ClientIp:IPv6PrefixLength", "200"),
            ("RateLimiting:Policies:auth:PermitLimit", "0"),
            ("RateLimiting:Policies:per-ip:Window", "00:00:00.5"),
            ("RateLimiting:Exempt:0", "10.1.2.3/8"),
            ("ReverseProxy:Routes:api:RateLimiterPolicy", "missing"),
            ("Admin:Urls", "nope"));

        var problems = Problems(configuration);

        Assert.Equal(9, problems.Count);
        string[] paths =
        [
            "Redis:TimeoutMs:", "Redis:KeyPrefix:", "ClientIp:TrustedProxies:0:", "ClientIp:IPv6PrefixLength:",
            "RateLimiting:Policies:auth:PermitLimit:", "RateLimiting:Policies:per-ip:Window:", "RateLimiting:Exempt:0:",
            "ReverseProxy:Routes:api:RateLimiterPolicy:", "Admin:Urls:",
        ];
        Assert.All(paths, path => Assert.Contains(problems, p => p.StartsWith(path, StringComparison.Ordinal)));
    }

    [Fact]
    public void TryLoad_TypeErrorsInOneSectionAndRuleErrorsInOthers_ReportsAll()
    {
        var configuration = TestConfiguration.With(
            ("Redis:TimeoutMs", "fast"),
            ("ClientIp:Trusted", "10.0.0.0/8"),
            ("RateLimiting:Policies:auth:PermitLimit", "-1"),
            ("Admin:Urls", "nope"));

        var problems = Problems(configuration);

        Assert.Equal(4, problems.Count);
        Assert.StartsWith("Redis:TimeoutMs: 'fast'", problems[0], StringComparison.Ordinal);
        Assert.StartsWith("ClientIp:Trusted: unknown key", problems[1], StringComparison.Ordinal);
        Assert.StartsWith("RateLimiting:Policies:auth:PermitLimit: -1", problems[2], StringComparison.Ordinal);
        Assert.StartsWith("Admin:Urls: 'nope'", problems[3], StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_SeveralProblemsInOnePolicySection_ReportsAll()
    {
        var configuration = TestConfiguration.With(
            ("RateLimiting:Policies:auth:PermitLimit", "0"),
            ("RateLimiting:Policies:auth:Window", "00:00:00.1"),
            ("RateLimiting:Policies:auth:PartitionBy", "Cookie"),
            ("RateLimiting:Exempt:0", "x"),
            ("RateLimiting:Exempt:1", "y"),
            ("RateLimiting:DefaultPolicy", "missing"));

        Assert.Equal(6, Problems(configuration).Count);
    }

    [Fact]
    public void TryLoad_UnknownKeyAndRuleViolationInSameSection_ReportsBoth()
    {
        var problems = Problems(TestConfiguration.With(
            ("RateLimiting:Policies:auth:OnBreach", "Ban"),
            ("RateLimiting:Policies:per-ip:PermitLimit", "0")));

        Assert.Equal(2, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:auth:OnBreach", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:per-ip:PermitLimit: 0 must be between", StringComparison.Ordinal));
    }

    [Fact]
    public void TryLoad_UnconvertibleValueAndRuleViolationsInSameSection_ReportsEachOnce()
    {
        // The unconvertible PermitLimit is reported once, not again as "is required" after it was left out of binding.
        var problems = Problems(TestConfiguration.With(
            ("RateLimiting:Policies:auth:PermitLimit", "ten"),
            ("RateLimiting:Policies:auth:PartitionBy", "Cookie"),
            ("RateLimiting:Policies:per-ip:Window", "00:00:00.5"),
            ("RateLimiting:Exempt:0", "x")));

        Assert.Equal(4, problems.Count);
        Assert.Single(problems, p => p.StartsWith("RateLimiting:Policies:auth:PermitLimit:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:auth:PartitionBy:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:per-ip:Window:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Exempt:0:", StringComparison.Ordinal));
    }

    [Fact]
    public void TryLoad_ScalarListAndRuleViolationInSameSection_ReportsBoth()
    {
        var problems = Problems(TestConfiguration.With(
            ("ClientIp:TrustedProxies", "10.0.0.0/8"),
            ("ClientIp:IPv6PrefixLength", "0")));

        Assert.Equal(2, problems.Count);
        Assert.Contains("ClientIp:TrustedProxies: expected a list, found the value '10.0.0.0/8'", problems);
        Assert.Contains(problems, p => p.StartsWith("ClientIp:IPv6PrefixLength: 0 must be between", StringComparison.Ordinal));
    }

    [Fact]
    public void GatewayConfigurationException_SeveralProblems_ListsEachOnItsOwnLine()
    {
        var configuration = TestConfiguration.With(
            ("Redis:TimeoutMs", "0"),
            ("RateLimiting:Policies:auth:PermitLimit", "0"),
            ("Admin:Urls", "nope"));
        _ = GatewaySettings.TryLoad(configuration, out var problems);

        var exception = new GatewayConfigurationException(problems);

        var lines = exception.Message.Split(Environment.NewLine);
        Assert.Equal(4, lines.Length);
        Assert.Equal("Invalid gateway configuration (3 problems):", lines[0]);
        Assert.Equal(problems.Select(p => "  - " + p), lines.Skip(1));
        Assert.Equal(problems, exception.Problems);
    }

    [Fact]
    public void GatewayConfigurationException_OneProblem_UsesSingular()
    {
        var exception = new GatewayConfigurationException(["Redis:TimeoutMs: 0 must be between 1 and 60000"]);

        Assert.Equal(
            "Invalid gateway configuration (1 problem):" + Environment.NewLine + "  - Redis:TimeoutMs: 0 must be between 1 and 60000",
            exception.Message);
    }

    [Fact]
    public void TryLoad_ShippedAppSettings_IsValidAndCompilesExpectedPolicies()
    {
        var path = Path.Combine(TestConfiguration.RepositoryRoot(), "gateway", "MdvGateway.Gateway", "appsettings.json");
        var configuration = new ConfigurationBuilder().AddJsonFile(path, optional: false, reloadOnChange: false).Build();

        var settings = GatewaySettings.TryLoad(configuration, out var problems);

        Assert.Empty(problems);
        Assert.NotNull(settings);
        var rateLimits = settings.RateLimits;
        Assert.Equal("per-ip", rateLimits.DefaultPolicy?.Name);
        Assert.Equal(StoreUnavailableBehavior.FallbackToLocal, rateLimits.WhenStoreUnavailable);
        Assert.Equal(0, rateLimits.Exempt.Count);
        Assert.Equal(["auth", "burst-and-hour", "per-ip"], rateLimits.Policies.Select(p => p.Name).Order(StringComparer.Ordinal));

        var perIp = Assert.Single(rateLimits.Resolve("per-ip")!.Limits);
        Assert.Equal(new RateLimit("per-ip", 100, TimeSpan.FromSeconds(1)), perIp);

        var auth = rateLimits.Resolve("auth")!;
        Assert.Equal(new RateLimit("auth", 5, TimeSpan.FromMinutes(1)), Assert.Single(auth.Limits));
        Assert.Equal("\"auth\";q=5;w=60", auth.PolicyHeaderValue);
        Assert.Equal(PartitionKind.ClientIp, auth.PartitionBy.Kind);
        Assert.Equal(RateLimitMode.Enforce, auth.Mode);

        var burst = rateLimits.Resolve("burst-and-hour")!;
        Assert.Equal(
            [new RateLimit("burst-and-hour-1s", 10, TimeSpan.FromSeconds(1)), new RateLimit("burst-and-hour-3600s", 1000, TimeSpan.FromHours(1))],
            burst.Limits.ToArray());

        Assert.Null(rateLimits.Resolve("Disable"));
        Assert.Equal("mdv", settings.Redis.KeyPrefix);
        Assert.Equal(250, settings.Redis.TimeoutMs);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Redis.BreakDuration);

        // No trusted proxies are shipped: a forwarded header is never believed.
        var client = settings.ClientIpResolver.Resolve(IPAddress.Parse("10.0.0.1"), new StringValues("203.0.113.5"));
        Assert.Equal("10.0.0.1", client.Key);
    }

    [Fact]
    public void TryLoad_DesignDocumentExample_IsValid()
    {
        var configuration = TestConfiguration.FromJson("""
            {
              "ReverseProxy": {
                "Routes": {
                  "api":   { "ClusterId": "app", "Match": { "Path": "/api/{**rest}" },  "RateLimiterPolicy": "per-ip" },
                  "login": { "ClusterId": "app", "Match": { "Path": "/auth/{**rest}" }, "RateLimiterPolicy": "auth" }
                },
                "Clusters": { "app": { "Destinations": { "d1": { "Address": "http://127.0.0.1:5080/" } } } }
              },
              "Redis":    { "Configuration": "127.0.0.1:6379", "KeyPrefix": "mdv" },
              "ClientIp": { "TrustedProxies": [ "10.0.0.0/8" ], "IPv6PrefixLength": 64 },
              "RateLimiting": {
                "DefaultPolicy": "per-ip",
                "WhenStoreUnavailable": "FallbackToLocal",
                "Exempt": [ "10.1.2.0/24" ],
                "Policies": {
                  "per-ip":  { "PermitLimit": 100,  "Window": "00:00:01" },
                  "auth":    { "PermitLimit": 5,    "Window": "00:01:00" },
                  "partner": { "PermitLimit": 1000, "Window": "00:01:00", "PartitionBy": "Header:X-Api-Key", "Mode": "Shadow" }
                }
              }
            }
            """);

        var settings = GatewaySettings.TryLoad(configuration, out var problems);

        Assert.Empty(problems);
        Assert.NotNull(settings);
        var partner = settings.RateLimits.Resolve("partner")!;
        Assert.Equal(new PartitionBy(PartitionKind.Header, "X-Api-Key"), partner.PartitionBy);
        Assert.Equal(RateLimitMode.Shadow, partner.Mode);
        Assert.True(settings.RateLimits.Exempt.Contains(IPAddress.Parse("10.1.2.200")));
        Assert.Equal("203.0.113.5", settings.ClientIpResolver.Resolve(IPAddress.Parse("10.0.0.1"), new StringValues("203.0.113.5")).Key);
    }

    [Fact]
    public void ReserveAhead_IsOnByDefault_AndFalseReachesEveryLimitOfThePolicy()
    {
        var settings = GatewaySettings.TryLoad(TestConfiguration.With(
            ("RateLimiting:Policies:strict:Limits:0:PermitLimit", "10"),
            ("RateLimiting:Policies:strict:Limits:0:Window", "00:00:01"),
            ("RateLimiting:Policies:strict:Limits:1:PermitLimit", "100"),
            ("RateLimiting:Policies:strict:Limits:1:Window", "00:01:00"),
            ("RateLimiting:Policies:strict:ReserveAhead", "false")), out var problems);

        Assert.Empty(problems);
        Assert.NotNull(settings);
        Assert.All(settings.RateLimits.Resolve("strict")!.Limits, l => Assert.False(l.ReserveAhead));
        Assert.All(settings.RateLimits.Resolve("auth")!.Limits, l => Assert.True(l.ReserveAhead));
    }

    [Fact]
    public void RoutePolicies_ReadsEveryRoute()
    {
        var policies = GatewaySettings.RoutePolicies(TestConfiguration.With(("ReverseProxy:Routes:open:ClusterId", "app")));

        Assert.Equal(3, policies.Count);
        Assert.Equal("per-ip", policies["api"]);
        Assert.Equal("auth", policies["LOGIN"]);
        Assert.Null(policies["open"]);
    }
}
