using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Tests.Configuration;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class AdminOptionsValidatorTests
{
    private static readonly string GoodHash = ApiKeyHash.Compute("a-key");

    private static IReadOnlyList<string> Problems(params (string Key, string? Value)[] changes)
    {
        GatewaySettings.TryLoad(TestConfiguration.With(changes), out var problems);
        return problems;
    }

    [Fact]
    public void TryLoad_ValidKeys_LoadsThemIntoSettings()
    {
        var settings = GatewaySettings.TryLoad(TestConfiguration.With(
            ("Admin:ApiKeys:0:Name", "secops"),
            ("Admin:ApiKeys:0:Sha256", GoodHash),
            ("Admin:ApiKeys:0:Roles:0", "bans:read"),
            ("Admin:ApiKeys:0:Roles:1", "bans:write"),
            ("Admin:ApiKeys:1:Name", "auditor"),
            ("Admin:ApiKeys:1:Sha256", ApiKeyHash.Compute("another").ToUpperInvariant()),
            ("Admin:ApiKeys:1:Roles:0", "config:read")), out var problems);

        Assert.Empty(problems);
        Assert.NotNull(settings);
        Assert.Equal(2, settings.Admin.ApiKeys.Count);
        Assert.Equal(["bans:read", "bans:write"], settings.Admin.ApiKeys[0].Roles);
        Assert.Equal(10, settings.Admin.AuthFailureLimit);
        Assert.Equal(TimeSpan.FromMinutes(1), settings.Admin.AuthFailureWindow);
    }

    [Theory]
    [InlineData("abc")]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad00")]
    [InlineData("zz7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    public void TryLoad_BadHash_ReportsThePathWithoutEchoingTheValue(string hash)
    {
        var problem = Assert.Single(Problems(("Admin:ApiKeys:0:Name", "secops"), ("Admin:ApiKeys:0:Sha256", hash), ("Admin:ApiKeys:0:Roles:0", "bans:read")));

        Assert.StartsWith("Admin:ApiKeys:0:Sha256: ", problem, StringComparison.Ordinal);
        Assert.DoesNotContain(hash, problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void TryLoad_UnknownRole_ReportsTheRolePath()
    {
        var problem = Assert.Single(Problems(
            ("Admin:ApiKeys:0:Name", "secops"), ("Admin:ApiKeys:0:Sha256", GoodHash),
            ("Admin:ApiKeys:0:Roles:0", "bans:read"), ("Admin:ApiKeys:0:Roles:1", "bans:admin")));

        Assert.StartsWith("Admin:ApiKeys:0:Roles:1: 'bans:admin'", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_EveryProblemOfEveryKey_IsReportedAtOnce()
    {
        var problems = Problems(
            ("Admin:ApiKeys:0:Name", "secops"), ("Admin:ApiKeys:0:Sha256", GoodHash), ("Admin:ApiKeys:0:Roles:0", "bans:read"),
            ("Admin:ApiKeys:1:Name", "SecOps"), ("Admin:ApiKeys:1:Sha256", GoodHash), ("Admin:ApiKeys:1:Roles:0", "nope"),
            ("Admin:ApiKeys:2:Name", "no roles here"), ("Admin:ApiKeys:2:Sha256", ApiKeyHash.Compute("x")),
            ("Admin:AuthFailureLimit", "0"),
            ("Admin:AuthFailureWindow", "00:00:00"));

        Assert.Contains(problems, p => p.StartsWith("Admin:ApiKeys:1:Name: 'SecOps' is already the name of Admin:ApiKeys:0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Admin:ApiKeys:1:Sha256: the same key as Admin:ApiKeys:0", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Admin:ApiKeys:1:Roles:0: 'nope'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Admin:ApiKeys:2:Name: 'no roles here'", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Admin:ApiKeys:2:Roles: at least one", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Admin:AuthFailureLimit:", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("Admin:AuthFailureWindow:", StringComparison.Ordinal));
        Assert.Equal(7, problems.Count);
    }

    [Fact]
    public void TryLoad_MissingName_IsAProblem()
        => Assert.StartsWith("Admin:ApiKeys:0:Name: a name is required", Assert.Single(Problems(("Admin:ApiKeys:0:Sha256", GoodHash), ("Admin:ApiKeys:0:Roles:0", "bans:read"))), StringComparison.Ordinal);

    [Fact]
    public void TryLoad_PlaintextKeyField_IsAnUnknownKeyNotSilentlyIgnored()
    {
        var problems = Problems(("Admin:ApiKeys:0:Name", "secops"), ("Admin:ApiKeys:0:Sha256", GoodHash), ("Admin:ApiKeys:0:Roles:0", "bans:read"), ("Admin:ApiKeys:0:Key", "plaintext-secret"));

        var problem = Assert.Single(problems);
        Assert.StartsWith("Admin:ApiKeys:0:Key: unknown key", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("plaintext-secret", problem, StringComparison.Ordinal);
    }
}
