using MdvGateway.AuditConsumer.Configuration;
using Microsoft.Extensions.Configuration;

namespace MdvGateway.AuditConsumer.Tests.Configuration;

public sealed class AuditConsumerSettingsTests
{
    private const string Connection = "Host=127.0.0.1;Port=5432;Database=mdv_audit;Username=mdv;Password=mdv";

    [Fact]
    public void TryLoad_OnlyTheConnectionString_UsesTheDocumentedDefaults()
    {
        var settings = Load(("ConnectionStrings:AuditDb", Connection));

        Assert.NotNull(settings);
        Assert.Equal("127.0.0.1", settings.RabbitMq.Host);
        Assert.Equal(5672, settings.RabbitMq.Port);
        Assert.Equal("/", settings.RabbitMq.VirtualHost);
        Assert.False(settings.Audit.MigrateOnStart);
        Assert.Equal(400, settings.Audit.RetentionDays);
        Assert.Equal(3, settings.Audit.PartitionsAhead);
        Assert.Equal(500, settings.Audit.BatchSize);
        Assert.Equal(TimeSpan.FromMilliseconds(200), settings.Audit.BatchTimeLimit);
        Assert.Equal(2, settings.Audit.ConcurrentBatches);
        Assert.Equal(100, settings.Audit.PrefetchCount);
    }

    [Fact]
    public void TryLoad_Overrides_AreBound()
    {
        var settings = Load(("ConnectionStrings:AuditDb", Connection), ("RabbitMq:Port", "5673"), ("RabbitMq:VirtualHost", "audit"),
            ("Audit:MigrateOnStart", "true"), ("Audit:RetentionDays", "90"), ("Audit:RetryMaxDelay", "00:00:05"));

        Assert.NotNull(settings);
        Assert.Equal(5673, settings.RabbitMq.Port);
        Assert.Equal("audit", settings.RabbitMq.VirtualHost);
        Assert.True(settings.Audit.MigrateOnStart);
        Assert.Equal(90, settings.Audit.RetentionDays);
        Assert.Equal(TimeSpan.FromSeconds(5), settings.Audit.RetryMaxDelay);
    }

    [Fact]
    public void TryLoad_EveryMistake_IsReportedAtOnceWithItsPath()
    {
        var problems = Problems(
            ("RabbitMq:Hots", "broker"),
            ("RabbitMq:Port", "0"),
            ("Audit:OnBreach", "drop"),
            ("Audit:BatchSize", "0"),
            ("Audit:PartitionsAhead", "three"),
            ("Audit:MigrateOnStart", "yes"),
            ("Audit:RetryMaxDelay", "00:00:00.010"));

        Assert.Contains(problems, p => p.StartsWith("ConnectionStrings:AuditDb: is required", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.StartsWith("RabbitMq:Hots: unknown key 'Hots' (known keys: Host, Port", StringComparison.Ordinal));
        Assert.Contains("RabbitMq:Port: 0 must be between 1 and 65535", problems);
        Assert.Contains(problems, p => p.StartsWith("Audit:OnBreach: unknown key", StringComparison.Ordinal));
        Assert.Contains("Audit:BatchSize: 0 must be between 1 and 10000", problems);
        Assert.Contains("Audit:PartitionsAhead: 'three' is not a valid whole number", problems);
        Assert.Contains("Audit:MigrateOnStart: 'yes' is not a valid boolean (true or false)", problems);
        Assert.Contains(problems, p => p.StartsWith("Audit:RetryMaxDelay: 00:00:00.0100000 must be between", StringComparison.Ordinal));
        Assert.Equal(8, problems.Count);
    }

    [Fact]
    public void TryLoad_PrefetchBelowTheConcurrentBatches_IsRefusedWithBothKeys()
    {
        var problems = Problems(("ConnectionStrings:AuditDb", Connection), ("Audit:PrefetchCount", "3"), ("Audit:ConcurrentBatches", "4"));

        Assert.Equal(["Audit:PrefetchCount: 3 must be at least Audit:ConcurrentBatches (4), or batches would wait for messages that cannot arrive"], problems);
        Assert.Equal(["Audit:PrefetchCount: 0 must be between 1 and 10000"], Problems(("ConnectionStrings:AuditDb", Connection), ("Audit:PrefetchCount", "0")));
    }

    [Fact]
    public void TryLoad_BadConnectionString_NamesTheKeywordNotThePassword()
    {
        var problems = Problems(("ConnectionStrings:AuditDb", "Host=db;Pasword=hunter2"));

        var problem = Assert.Single(problems);
        Assert.StartsWith("ConnectionStrings:AuditDb: not a valid Npgsql connection string", problem, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void TryLoad_SectionWhereAValueBelongs_IsAnError()
        => Assert.Contains("Audit:RetentionDays: expected a single whole number value, found an object or list",
            Problems(("ConnectionStrings:AuditDb", Connection), ("Audit:RetentionDays:Days", "3")));

    private static AuditConsumerSettings? Load(params (string Key, string Value)[] values)
    {
        var settings = AuditConsumerSettings.TryLoad(Build(values), out var problems);
        Assert.Empty(problems);
        return settings;
    }

    private static List<string> Problems(params (string Key, string Value)[] values)
    {
        Assert.Null(AuditConsumerSettings.TryLoad(Build(values), out var problems));
        return [.. problems];
    }

    private static IConfiguration Build((string Key, string Value)[] values)
        => new ConfigurationBuilder().AddInMemoryCollection(values.Select(v => new KeyValuePair<string, string?>(v.Key, v.Value))).Build();
}
