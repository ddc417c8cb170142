namespace MdvGateway.Gateway.Redis;

/// <summary>
/// The <c>Redis</c> section: where shared state (limits, strikes, bans) lives.
/// </summary>
public sealed class RedisOptions
{
    public const string SectionName = "Redis";

    /// <summary>StackExchange.Redis configuration string. Default <c>127.0.0.1:6379</c>.</summary>
    public string Configuration { get; set; } = "127.0.0.1:6379";

    /// <summary>
    /// Prefix of every key and partition the gateway writes, so that environments and products can share
    /// one Redis. Letters, digits, <c>-</c>, <c>_</c> and <c>.</c> only. Default <c>mdv</c>.
    /// </summary>
    public string KeyPrefix { get; set; } = "mdv";

    /// <summary>The longest a request waits on Redis, in milliseconds. Default 250.</summary>
    public int TimeoutMs { get; set; } = 250;

    /// <summary>Consecutive failures that open the circuit. Default 5.</summary>
    public int BreakAfterFailures { get; set; } = 5;

    /// <summary>How long the circuit stays open before Redis is tried again. Default 00:00:05.</summary>
    public TimeSpan BreakDuration { get; set; } = TimeSpan.FromSeconds(5);
}
