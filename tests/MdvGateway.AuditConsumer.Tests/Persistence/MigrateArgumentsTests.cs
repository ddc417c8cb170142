using MdvGateway.AuditConsumer.Persistence;

namespace MdvGateway.AuditConsumer.Tests.Persistence;

public sealed class MigrateArgumentsTests
{
    [Fact]
    public void TryParse_NoOption_AppliesEverything()
    {
        var args = Parse("migrate");

        Assert.Null(args.To);
        Assert.False(args.Script);
        Assert.Empty(args.ConfigurationArgs);
    }

    [Theory]
    [InlineData("migrate", "--to", "0")]
    [InlineData("migrate", "--to=0")]
    [InlineData("migrate", "--TO", "0")]
    public void TryParse_To_BothSpellings(params string[] argv) => Assert.Equal("0", Parse(argv).To);

    [Fact]
    public void TryParse_ScriptFromTo_AndConfigurationOverridesPassedOn()
    {
        var args = Parse("migrate", "--script", "--from", "AddAdminActorIndex", "--to", "CreateAuditLogs",
            "--ConnectionStrings:AuditDb", "Host=db;Database=audit", "--Urls=http://127.0.0.1:1", "--RabbitMq__Port", "5673");

        Assert.True(args.Script);
        Assert.Equal("AddAdminActorIndex", args.From);
        Assert.Equal("CreateAuditLogs", args.To);
        Assert.Equal(["--ConnectionStrings:AuditDb", "Host=db;Database=audit", "--Urls=http://127.0.0.1:1", "--RabbitMq__Port", "5673"], args.ConfigurationArgs);
    }

    [Theory]
    [InlineData("unknown option '--too'", "migrate", "--too", "0")]
    [InlineData("unknown option '--scirpt'", "migrate", "--scirpt")]
    [InlineData("unknown option 'CreateAuditLogs'", "migrate", "CreateAuditLogs")]
    [InlineData("--to needs a migration name, or 0", "migrate", "--to")]
    [InlineData("--to needs a migration name, or 0", "migrate", "--to", "--script")]
    [InlineData("--from is only meaningful with --script", "migrate", "--from", "0")]
    [InlineData("--list cannot be combined with --script or --to", "migrate", "--list", "--to", "0")]
    [InlineData("unknown option '-x'", "migrate", "-x")]
    public void TryParse_Mistakes_AreErrorsNeverSilentMigrations(string expected, params string[] argv)
    {
        Assert.Null(MigrateArguments.TryParse(argv, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void IsInvoked_OnlyForTheVerbFirst()
    {
        Assert.True(MigrateArguments.IsInvoked(["migrate"]));
        Assert.False(MigrateArguments.IsInvoked(["--Urls", "migrate"]));
        Assert.False(MigrateArguments.IsInvoked([]));
    }

    private static MigrateArguments Parse(params string[] argv)
        => MigrateArguments.TryParse(argv, out var error) ?? throw new InvalidOperationException(error);
}
