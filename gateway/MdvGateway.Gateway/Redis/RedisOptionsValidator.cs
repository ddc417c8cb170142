using System.Text.RegularExpressions;

namespace MdvGateway.Gateway.Redis;

internal static partial class RedisOptionsValidator
{
    public static void Validate(RedisOptions options, ICollection<string> problems)
    {
        const string s = RedisOptions.SectionName;
        if (string.IsNullOrWhiteSpace(options.Configuration))
        {
            problems.Add($"{s}:Configuration: must name at least one Redis endpoint, e.g. 127.0.0.1:6379");
        }
        else
        {
            try
            {
                _ = StackExchange.Redis.ConfigurationOptions.Parse(options.Configuration);
            }
            catch (ArgumentException ex)
            {
                problems.Add($"{s}:Configuration: not a valid StackExchange.Redis configuration string ({ex.Message})");
            }
        }

        if (!KeyPrefixPattern().IsMatch(options.KeyPrefix ?? string.Empty))
        {
            problems.Add($"{s}:KeyPrefix: '{options.KeyPrefix}' must be 1-64 letters, digits, '-', '_' or '.'");
        }

        if (options.TimeoutMs is < 1 or > 60_000)
        {
            problems.Add($"{s}:TimeoutMs: {options.TimeoutMs} must be between 1 and 60000");
        }

        if (options.BreakAfterFailures is < 1 or > 10_000)
        {
            problems.Add($"{s}:BreakAfterFailures: {options.BreakAfterFailures} must be between 1 and 10000");
        }

        if (options.BreakDuration < TimeSpan.FromMilliseconds(100) || options.BreakDuration > TimeSpan.FromMinutes(10))
        {
            problems.Add($"{s}:BreakDuration: {options.BreakDuration} must be between 00:00:00.1 and 00:10:00");
        }
    }

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex KeyPrefixPattern();
}
