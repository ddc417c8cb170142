using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Tests.Configuration;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class AuditOptionsTests
{
    [Fact]
    public void TryLoad_NoAuditSection_UsesTheDocumentedDefaults()
    {
        var audit = GatewaySettings.TryLoad(TestConfiguration.With(), out var problems)!.Audit;

        Assert.Empty(problems);
        Assert.True(audit.Enabled);
        Assert.Equal(("127.0.0.1", 5672, "/", "guest"), (audit.RabbitMq.Host, audit.RabbitMq.Port, audit.RabbitMq.VirtualHost, audit.RabbitMq.Username));
        Assert.Equal(".local/audit-spool", audit.SpoolDirectory);
        Assert.Equal(TimeSpan.FromSeconds(1), audit.AggregationInterval);
        Assert.Equal(50_000, audit.QueueCapacity);
        Assert.Equal(500, audit.MaxEventsPerMessage);
        Assert.Equal(1L << 30, audit.MaxSpoolBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), audit.PublishTimeout);
    }

    [Fact]
    public void TryLoad_TheDesignDocumentsExample_IsValid()
    {
        var configuration = TestConfiguration.FromJson("""
            { "Audit": {
                "RabbitMq": { "Host": "127.0.0.1", "Port": 5672, "VirtualHost": "/", "Username": "guest", "Password": "guest" },
                "SpoolDirectory": ".local/audit-spool",
                "AggregationInterval": "00:00:01" } }
            """);

        Assert.NotNull(GatewaySettings.TryLoad(configuration, out var problems));
        Assert.Empty(problems);
    }

    [Fact]
    public void TheShippedAppSettings_AuditSection_IsValid()
    {
        var path = Path.Combine(TestConfiguration.RepositoryRoot(), "gateway", "MdvGateway.Gateway", "appsettings.json");
        var configuration = TestConfiguration.FromJson(File.ReadAllText(path));

        var settings = GatewaySettings.TryLoad(configuration, out var problems);

        Assert.Empty(problems);
        Assert.True(settings!.Audit.Enabled);
    }

    public static TheoryData<string, string, string> BadValues => new()
    {
        { "Audit:RabbitMq:Host", "", "Audit:RabbitMq:Host: must name" },
        { "Audit:RabbitMq:Host", "amqp://broker", "Audit:RabbitMq:Host: must be a host name" },
        { "Audit:RabbitMq:Port", "0", "Audit:RabbitMq:Port: 0 must be between 1 and 65535" },
        { "Audit:RabbitMq:Port", "70000", "Audit:RabbitMq:Port: 70000 must be between 1 and 65535" },
        { "Audit:RabbitMq:Port", "amqp", "Audit:RabbitMq:Port: 'amqp' is not a valid whole number" },
        { "Audit:RabbitMq:VirtualHost", "", "Audit:RabbitMq:VirtualHost: must not be empty" },
        { "Audit:RabbitMq:Username", "", "Audit:RabbitMq:Username: must not be empty" },
        { "Audit:RabbitMq:Pasword", "secret", "Audit:RabbitMq:Pasword: unknown key 'Pasword'" },
        { "Audit:SpoolDirectory", " ", "Audit:SpoolDirectory: must name a directory" },
        { "Audit:AggregationInterval", "00:00:00.050", "Audit:AggregationInterval: 00:00:00.0500000 must be between" },
        { "Audit:AggregationInterval", "1s", "Audit:AggregationInterval: '1s' is not a valid duration" },
        { "Audit:QueueCapacity", "0", "Audit:QueueCapacity: 0 must be between 1 and 1000000" },
        { "Audit:MaxEventsPerMessage", "0", "Audit:MaxEventsPerMessage: 0 must be between 1 (one event per message" },
        { "Audit:MaxEventsPerMessage", "10001", "Audit:MaxEventsPerMessage: 10001 must be between 1" },
        { "Audit:MaxEventsPerMessage", "many", "Audit:MaxEventsPerMessage: 'many' is not a valid whole number" },
        { "Audit:MaxSpoolBytes", "1000", "Audit:MaxSpoolBytes: 1000 must be between 1048576 (1 MiB)" },
        { "Audit:PublishTimeout", "00:01:00", "Audit:PublishTimeout: 00:01:00 must be between 00:00:00.1 and 00:00:10" },
        { "Audit:Enabled", "yes", "Audit:Enabled: 'yes' is not a valid boolean" },
        { "Audit:OnFull", "Drop", "Audit:OnFull: unknown key 'OnFull'" },
    };

    [Theory]
    [MemberData(nameof(BadValues))]
    public void TryLoad_BadAuditValue_IsReportedWithItsPath(string key, string value, string expected)
    {
        GatewaySettings.TryLoad(TestConfiguration.With((key, value)), out var problems);

        Assert.StartsWith(expected, Assert.Single(problems), StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_EveryBadAuditValue_IsReportedAtOnce_AndThePasswordNever()
    {
        const string password = "s3cr3t-Pa55";
        var configuration = TestConfiguration.With(
            ("Audit:RabbitMq:Password", password),
            ("Audit:RabbitMq:Port", "0"),
            ("Audit:QueueCapacity", "-1"),
            ("Audit:PublishTimeout", "soon"),
            ("RateLimiting:Policies:auth:PermitLimit", "0"));

        GatewaySettings.TryLoad(configuration, out var problems);

        Assert.Equal(4, problems.Count);
        Assert.DoesNotContain(problems, p => p.Contains(password, StringComparison.Ordinal));
    }
}
