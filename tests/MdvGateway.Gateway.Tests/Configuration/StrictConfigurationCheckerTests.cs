using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.Tests.Configuration;

public sealed class StrictConfigurationCheckerTests
{
    private static List<string> Check<T>(string sectionName, params (string Key, string? Value)[] values)
    {
        var configuration = TestConfiguration.Build(values.ToDictionary(v => v.Key, v => v.Value));
        var problems = new List<string>();
        StrictConfigurationChecker.Check(configuration.GetSection(sectionName), typeof(T), problems);
        return problems;
    }

    [Fact]
    public void Check_KnownKeys_ReportsNothing()
    {
        var problems = Check<RateLimitingOptions>(
            "RateLimiting",
            ("RateLimiting:DefaultPolicy", "auth"),
            ("RateLimiting:WhenStoreUnavailable", "Reject"),
            ("RateLimiting:Exempt:0", "10.0.0.0/8"),
            ("RateLimiting:Policies:auth:PermitLimit", "5"),
            ("RateLimiting:Policies:auth:Window", "00:01:00"),
            ("RateLimiting:Policies:auth:PartitionBy", "Header:X-Api-Key"),
            ("RateLimiting:Policies:auth:Mode", "Shadow"),
            ("RateLimiting:Policies:multi:Limits:0:Name", "burst"),
            ("RateLimiting:Policies:multi:Limits:0:PermitLimit", "10"),
            ("RateLimiting:Policies:multi:Limits:0:Window", "00:00:01"));

        Assert.Empty(problems);
    }

    [Fact]
    public void Check_EmptySection_ReportsNothing()
    {
        Assert.Empty(Check<RateLimitingOptions>("RateLimiting"));
    }

    [Fact]
    public void Check_UnknownKeyInPolicy_ReportsFullPath()
    {
        var problems = Check<RateLimitingOptions>(
            "RateLimiting",
            ("RateLimiting:Policies:auth:PermitLimit", "5"),
            ("RateLimiting:Policies:auth:OnBreach", "Ban"));

        var problem = Assert.Single(problems);
        Assert.StartsWith("RateLimiting:Policies:auth:OnBreach:", problem, StringComparison.Ordinal);
        Assert.Contains("unknown key 'OnBreach'", problem, StringComparison.Ordinal);
        Assert.Contains("PermitLimit", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnknownKeyInSectionRoot_ReportsIt()
    {
        var problems = Check<RedisOptions>("Redis", ("Redis:Host", "localhost"));

        var problem = Assert.Single(problems);
        Assert.StartsWith("Redis:Host: unknown key 'Host'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_UnknownKeyInsideListElement_ReportsIndexedPath()
    {
        var problems = Check<RateLimitingOptions>(
            "RateLimiting",
            ("RateLimiting:Policies:multi:Limits:0:PermitLimit", "10"),
            ("RateLimiting:Policies:multi:Limits:1:Burst", "3"));

        var problem = Assert.Single(problems);
        Assert.StartsWith("RateLimiting:Policies:multi:Limits:1:Burst: unknown key", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_KeyInDifferentCase_IsAccepted()
    {
        // Configuration keys are case-insensitive everywhere else (environment variables, command line).
        var problems = Check<RateLimitingOptions>(
            "RateLimiting",
            ("RateLimiting:policies:auth:permitlimit", "5"),
            ("RateLimiting:policies:auth:WINDOW", "00:01:00"));

        Assert.Empty(problems);
    }

    [Fact]
    public void Check_SeveralProblems_ReportsEveryOne()
    {
        var problems = Check<RateLimitingOptions>(
            "RateLimiting",
            ("RateLimiting:Policies:a:OnBreach", "Ban"),
            ("RateLimiting:Policies:b:PermitLimit", "ten"),
            ("RateLimiting:Policies:c:Window", "1m"),
            ("RateLimiting:Policies:d:Mode", "Loud"),
            ("RateLimiting:Bogus", "x"));

        Assert.Equal(5, problems.Count);
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:a:OnBreach:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:b:PermitLimit:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:c:Window:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Policies:d:Mode:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RateLimiting:Bogus:", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("ten")]
    [InlineData("5.5")]
    [InlineData("99999999999")]
    [InlineData("0x10")]
    public void Check_PermitLimitNotWholeNumber_ReportsValue(string value)
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Policies:auth:PermitLimit", value));

        var problem = Assert.Single(problems);
        Assert.Equal($"RateLimiting:Policies:auth:PermitLimit: '{value}' is not a valid whole number", problem);
    }

    [Theory]
    [InlineData("1m")]
    [InlineData("abc")]
    [InlineData("60s")]
    [InlineData("00:60:00")]
    public void Check_UnparsableWindow_ReportsDuration(string value)
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Policies:auth:Window", value));

        var problem = Assert.Single(problems);
        Assert.StartsWith($"RateLimiting:Policies:auth:Window: '{value}' is not a valid duration", problem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("yes")]
    [InlineData("1")]
    [InlineData("off")]
    public void Check_ReserveAheadThatIsNotABoolean_IsNamed(string value)
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Policies:auth:ReserveAhead", value));

        var problem = Assert.Single(problems);
        Assert.Equal($"RateLimiting:Policies:auth:ReserveAhead: '{value}' is not a valid boolean (true or false)", problem);
    }

    [Theory]
    [InlineData("Loud")]
    [InlineData("1")]
    [InlineData("0")]
    [InlineData("-1")]
    [InlineData("Strict")]
    public void Check_BadMode_ReportsAllowedValues(string value)
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Policies:auth:Mode", value));

        var problem = Assert.Single(problems);
        Assert.StartsWith($"RateLimiting:Policies:auth:Mode: '{value}' is not a valid value", problem, StringComparison.Ordinal);
        Assert.Contains("Enforce, Shadow", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ModeIsOnlyADash_ReportsProblemWithoutThrowing()
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Policies:auth:Mode", "-"));

        Assert.StartsWith("RateLimiting:Policies:auth:Mode:", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("RateLimiting:WhenStoreUnavailable", "Allow,Reject")]
    [InlineData("RateLimiting:Policies:auth:Mode", "Enforce,Shadow")]
    public void Check_CommaSeparatedEnumValues_AreRejected(string key, string value)
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", (key, value));

        Assert.StartsWith($"{key}: '{value}' is not a valid value", Assert.Single(problems), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Shadow")]
    [InlineData("shadow")]
    [InlineData("ENFORCE")]
    public void Check_ModeNameInAnyCase_IsAccepted(string value)
    {
        Assert.Empty(Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Policies:auth:Mode", value)));
    }

    [Fact]
    public void Check_BadWhenStoreUnavailable_ReportsIt()
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:WhenStoreUnavailable", "Sometimes"));

        var problem = Assert.Single(problems);
        Assert.StartsWith("RateLimiting:WhenStoreUnavailable: 'Sometimes' is not a valid value", problem, StringComparison.Ordinal);
        Assert.Contains("FallbackToLocal", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_ListGivenAsScalar_ReportsExpectedList()
    {
        var problems = Check<ClientIpOptions>("ClientIp", ("ClientIp:TrustedProxies", "10.0.0.0/8"));

        var problem = Assert.Single(problems);
        Assert.Equal("ClientIp:TrustedProxies: expected a list, found the value '10.0.0.0/8'", problem);
    }

    [Fact]
    public void Check_ListWithNamedKey_ReportsExpectedList()
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Exempt:first", "10.0.0.0/8"));

        var problem = Assert.Single(problems);
        Assert.Equal("RateLimiting:Exempt:first: expected a list, found the key 'first'", problem);
    }

    [Fact]
    public void Check_ObjectGivenAsScalar_ReportsExpectedObject()
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Policies:auth", "5"));

        var problem = Assert.Single(problems);
        Assert.Equal("RateLimiting:Policies:auth: expected an object, found the value '5'", problem);
    }

    [Fact]
    public void Check_ScalarGivenAsObject_ReportsExpectedValue()
    {
        var problems = Check<RateLimitingOptions>("RateLimiting", ("RateLimiting:Policies:auth:PermitLimit:Value", "5"));

        var problem = Assert.Single(problems);
        Assert.Equal("RateLimiting:Policies:auth:PermitLimit: expected a single whole number value, found an object or list", problem);
    }

    [Fact]
    public void Check_IntegerSettingNotANumber_ReportsIt()
    {
        var problems = Check<RedisOptions>("Redis", ("Redis:TimeoutMs", "fast"), ("Redis:BreakDuration", "soon"));

        Assert.Equal(2, problems.Count);
        Assert.Contains("Redis:TimeoutMs: 'fast' is not a valid whole number", problems);
        Assert.Contains(problems, p => p.StartsWith("Redis:BreakDuration: 'soon' is not a valid duration", StringComparison.Ordinal));
    }

    [Fact]
    public void Check_PrefixLengthWithFraction_ReportsIt()
    {
        var problems = Check<ClientIpOptions>("ClientIp", ("ClientIp:IPv6PrefixLength", "64.5"));

        Assert.Equal("ClientIp:IPv6PrefixLength: '64.5' is not a valid whole number", Assert.Single(problems));
    }

    [Fact]
    public void Check_NegativeNumbersAndDayDurations_AreConvertible()
    {
        // Range rules belong to the validators; the checker only says whether the value converts.
        var problems = Check<RateLimitingOptions>(
            "RateLimiting",
            ("RateLimiting:Policies:auth:PermitLimit", "-5"),
            ("RateLimiting:Policies:auth:Window", "1.00:00:00"));

        Assert.Empty(problems);
    }
}
