using System.Globalization;

namespace MdvGateway.Gateway.Auditing;

internal static class AuditOptionsValidator
{
    public static void Validate(AuditOptions options, ICollection<string> problems)
    {
        const string s = AuditOptions.SectionName;
        var rabbit = options.RabbitMq;
        if (string.IsNullOrWhiteSpace(rabbit.Host))
        {
            problems.Add($"{s}:RabbitMq:Host: must name the broker's host, e.g. 127.0.0.1");
        }
        else if (rabbit.Host.Contains("://", StringComparison.Ordinal) || rabbit.Host.AsSpan().ContainsAny('/', ' ', '@'))
        {
            // Not echoed: a value shaped like this may carry a password (user:password@host).
            problems.Add($"{s}:RabbitMq:Host: must be a host name or address only (no scheme, credentials, port or path)");
        }

        if (rabbit.Port is < 1 or > 65_535)
        {
            problems.Add($"{s}:RabbitMq:Port: {rabbit.Port} must be between 1 and 65535");
        }

        if (string.IsNullOrEmpty(rabbit.VirtualHost))
        {
            problems.Add($"{s}:RabbitMq:VirtualHost: must not be empty ('/' is the default virtual host)");
        }

        if (string.IsNullOrEmpty(rabbit.Username))
        {
            problems.Add($"{s}:RabbitMq:Username: must not be empty");
        }

        // The password's value is never echoed, not even in a validation message.
        if (rabbit.Password is null)
        {
            problems.Add($"{s}:RabbitMq:Password: must be set");
        }

        if (string.IsNullOrWhiteSpace(options.SpoolDirectory))
        {
            problems.Add($"{s}:SpoolDirectory: must name a directory, e.g. .local/audit-spool");
        }
        else if (options.SpoolDirectory.AsSpan().IndexOfAny(Path.GetInvalidPathChars()) >= 0)
        {
            problems.Add($"{s}:SpoolDirectory: '{options.SpoolDirectory}' contains characters a path cannot have");
        }

        if (options.AggregationInterval < TimeSpan.FromMilliseconds(100) || options.AggregationInterval > TimeSpan.FromMinutes(10))
        {
            problems.Add($"{s}:AggregationInterval: {options.AggregationInterval} must be between 00:00:00.1 and 00:10:00");
        }

        if (options.QueueCapacity is < 1 or > 1_000_000)
        {
            problems.Add($"{s}:QueueCapacity: {options.QueueCapacity} must be between 1 and 1000000");
        }

        if (options.MaxEventsPerMessage is < 1 or > MaxEventsPerMessageLimit)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture,
                $"{s}:MaxEventsPerMessage: {options.MaxEventsPerMessage} must be between 1 (one event per message, for audit consumers that predate batched messages) and {MaxEventsPerMessageLimit}"));
        }

        if (options.MaxSpoolBytes is < MinSpoolBytes or > MaxSpoolBytesLimit)
        {
            problems.Add(string.Create(CultureInfo.InvariantCulture, $"{s}:MaxSpoolBytes: {options.MaxSpoolBytes} must be between {MinSpoolBytes} (1 MiB) and {MaxSpoolBytesLimit} (1 TiB)"));
        }

        // Shutdown spends up to two of these after the drain (publishing what is queued, closing the bus), on a
        // budget of its own; deployment grace periods must leave room for them (deploy/README.md).
        if (options.PublishTimeout < TimeSpan.FromMilliseconds(100) || options.PublishTimeout > TimeSpan.FromSeconds(10))
        {
            problems.Add($"{s}:PublishTimeout: {options.PublishTimeout} must be between 00:00:00.1 and 00:00:10");
        }
    }

    private const int MaxEventsPerMessageLimit = 10_000;
    private const long MinSpoolBytes = 1L << 20;
    private const long MaxSpoolBytesLimit = 1L << 40;
}
