using Npgsql;

namespace MdvGateway.AuditConsumer.Configuration;

/// <summary>Everything the consumer reads from configuration, validated together at start.</summary>
public sealed class AuditConsumerSettings
{
    /// <summary>The connection string's configuration key (<c>ConnectionStrings:AuditDb</c>).</summary>
    public const string ConnectionStringName = "AuditDb";

    private AuditConsumerSettings(string connectionString, RabbitMqOptions rabbitMq, AuditOptions audit)
    {
        ConnectionString = connectionString;
        RabbitMq = rabbitMq;
        Audit = audit;
    }

    /// <summary><c>ConnectionStrings:AuditDb</c>, an Npgsql connection string.</summary>
    public string ConnectionString { get; }

    public RabbitMqOptions RabbitMq { get; }

    public AuditOptions Audit { get; }

    /// <summary>Validates every section the consumer owns.</summary>
    /// <returns>The settings, or null with every problem found (each prefixed by its configuration path).</returns>
    public static AuditConsumerSettings? TryLoad(IConfiguration configuration, out IReadOnlyList<string> problems)
    {
        var found = new List<string>();
        var connectionString = TryLoadConnectionString(configuration, found);

        var rabbitMq = StrictSectionBinder.Bind<RabbitMqOptions>(configuration.GetSection(RabbitMqOptions.SectionName), found);
        Validate(rabbitMq, found);

        var audit = StrictSectionBinder.Bind<AuditOptions>(configuration.GetSection(AuditOptions.SectionName), found);
        Validate(audit, found);

        problems = found;
        return found.Count == 0 && connectionString is not null ? new AuditConsumerSettings(connectionString, rabbitMq, audit) : null;
    }

    /// <summary>Reads and checks <c>ConnectionStrings:AuditDb</c> alone (all the <c>migrate</c> verb needs).</summary>
    public static string? TryLoadConnectionString(IConfiguration configuration, ICollection<string> problems)
    {
        const string path = "ConnectionStrings:" + ConnectionStringName;
        var value = configuration.GetConnectionString(ConnectionStringName);
        if (string.IsNullOrWhiteSpace(value))
        {
            problems.Add($"{path}: is required (an Npgsql connection string, e.g. Host=127.0.0.1;Port=5432;Database=mdv_audit;Username=mdv;Password=...)");
            return null;
        }

        try
        {
            var builder = new NpgsqlConnectionStringBuilder(value);
            if (string.IsNullOrWhiteSpace(builder.Host))
            {
                problems.Add($"{path}: names no Host");
                return null;
            }

            return value;
        }
        catch (ArgumentException ex)
        {
            // The message names the bad keyword, never the password.
            problems.Add($"{path}: not a valid Npgsql connection string ({ex.Message})");
            return null;
        }
    }

    private static void Validate(RabbitMqOptions options, List<string> problems)
    {
        const string s = RabbitMqOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Host))
        {
            problems.Add($"{s}:Host: must not be empty");
        }

        if (options.Port == 0)
        {
            problems.Add($"{s}:Port: 0 must be between 1 and 65535");
        }

        if (string.IsNullOrEmpty(options.VirtualHost))
        {
            problems.Add($"{s}:VirtualHost: must not be empty (the default virtual host is '/')");
        }

        if (string.IsNullOrEmpty(options.Username))
        {
            problems.Add($"{s}:Username: must not be empty");
        }
    }

    private static void Validate(AuditOptions options, List<string> problems)
    {
        const string s = AuditOptions.SectionName;
        Range(problems, $"{s}:RetentionDays", options.RetentionDays, 1, 36_500);
        Range(problems, $"{s}:PartitionsAhead", options.PartitionsAhead, 0, 24);
        Range(problems, $"{s}:BatchSize", options.BatchSize, 1, 10_000);
        Range(problems, $"{s}:ConcurrentBatches", options.ConcurrentBatches, 1, 32);
        Range(problems, $"{s}:PrefetchCount", options.PrefetchCount, 1, 10_000);
        if (options.PrefetchCount is >= 1 and <= 10_000 && options.ConcurrentBatches is >= 1 and <= 32 && options.PrefetchCount < options.ConcurrentBatches)
        {
            problems.Add($"{s}:PrefetchCount: {options.PrefetchCount} must be at least Audit:ConcurrentBatches ({options.ConcurrentBatches}), or batches would wait for messages that cannot arrive");
        }
        Range(problems, $"{s}:PartitionMaintenanceInterval", options.PartitionMaintenanceInterval, TimeSpan.FromSeconds(1), TimeSpan.FromDays(1));
        Range(problems, $"{s}:BatchTimeLimit", options.BatchTimeLimit, TimeSpan.FromMilliseconds(1), TimeSpan.FromMinutes(1));
        Range(problems, $"{s}:RetryMaxDelay", options.RetryMaxDelay, TimeSpan.FromMilliseconds(200), TimeSpan.FromMinutes(10));
    }

    private static void Range(List<string> problems, string path, int value, int min, int max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{path}: {value} must be between {min} and {max}");
        }
    }

    private static void Range(List<string> problems, string path, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{path}: {value:c} must be between {min:c} and {max:c}");
        }
    }
}
