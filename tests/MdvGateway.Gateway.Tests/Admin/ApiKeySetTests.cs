using MdvGateway.Gateway.Admin;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class ApiKeySetTests
{
    private static AdminApiKeyOptions Key(string name, string key, params string[] roles)
        => new() { Name = name, Sha256 = ApiKeyHash.Compute(key), Roles = [.. roles] };

    [Fact]
    public void Verify_ConfiguredKey_ReturnsItsNameAndRoles()
    {
        var keys = ApiKeySet.Create([Key("secops", "secret-one", AdminRoles.BansRead, AdminRoles.BansWrite)]);

        var caller = keys.Verify("secret-one");

        Assert.NotNull(caller);
        Assert.Equal("secops", caller.Name);
        Assert.True(caller.HasRole(AdminRoles.BansWrite));
        Assert.False(caller.HasRole(AdminRoles.ConfigRead));
    }

    [Theory]
    [InlineData("secret-on")]
    [InlineData("secret-one ")]
    [InlineData("SECRET-ONE")]
    [InlineData("")]
    public void Verify_AnyOtherKey_ReturnsNull(string presented)
    {
        var keys = ApiKeySet.Create([Key("secops", "secret-one", AdminRoles.BansRead)]);

        Assert.Null(keys.Verify(presented));
    }

    [Fact]
    public void Verify_TwoKeysDuringRotation_BothAreValidUnderTheirOwnNames()
    {
        var keys = ApiKeySet.Create([Key("secops-old", "old-key", AdminRoles.BansRead), Key("secops-new", "new-key", AdminRoles.BansRead)]);

        Assert.Equal("secops-old", keys.Verify("old-key")?.Name);
        Assert.Equal("secops-new", keys.Verify("new-key")?.Name);
    }

    [Fact]
    public void Verify_UppercaseHashInConfiguration_StillMatches()
    {
        var options = Key("secops", "secret-one", AdminRoles.BansRead);
        options.Sha256 = options.Sha256.ToUpperInvariant();

        Assert.NotNull(ApiKeySet.Create([options]).Verify("secret-one"));
    }

    [Fact]
    public void Verify_NoKeysConfigured_RefusesEverything()
    {
        var keys = ApiKeySet.Create([]);

        Assert.Equal(0, keys.Count);
        Assert.Null(keys.Verify("anything"));
    }

    [Fact]
    public void Compute_KnownVector_IsLowercaseHexSha256()
        => Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", ApiKeyHash.Compute("abc"));

    [Theory]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", true)]
    [InlineData("BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD", true)]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a", false)]
    [InlineData("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ag", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void IsWellFormed_Checks64HexCharacters(string? hex, bool expected)
        => Assert.Equal(expected, ApiKeyHash.IsWellFormed(hex));
}
