using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.Tests.Configuration;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class ConfigurationChangesTests
{
    private static Dictionary<string, string> Snapshot(params (string Key, string? Value)[] changes)
        => ConfigurationChanges.Snapshot(TestConfiguration.With(changes));

    [Fact]
    public void Between_SameConfiguration_IsEmpty()
    {
        Assert.Empty(ConfigurationChanges.Between(Snapshot(), Snapshot()));
    }

    [Fact]
    public void Between_NamesEachChangedAddedOrRemovedSectionOnce()
    {
        var before = Snapshot(("IpBans:StrikesBeforeBan", "10"));
        var after = Snapshot(
            ("RateLimiting:Policies:auth:PermitLimit", "6"),
            ("RateLimiting:Policies:per-ip:PermitLimit", "50"),
            ("IpBans:StrikesBeforeBan", null),
            ("Audit:QueueCapacity", "5"));

        Assert.Equal(["Audit", "IpBans", "RateLimiting"], ConfigurationChanges.Between(before, after));
    }

    [Fact]
    public void Between_KeyCaseOnly_IsNoChange()
    {
        var before = ConfigurationChanges.Snapshot(TestConfiguration.Build(new Dictionary<string, string?> { ["Redis:KeyPrefix"] = "a" }));
        var after = ConfigurationChanges.Snapshot(TestConfiguration.Build(new Dictionary<string, string?> { ["redis:keyprefix"] = "a" }));

        Assert.Empty(ConfigurationChanges.Between(before, after));
    }
}
