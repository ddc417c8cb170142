using MdvGateway.Gateway.Redis;
using RedisRateLimiting;
using StackExchange.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Sliding windows in Redis through RedisRateLimiting: one atomic Lua script per limit per request, shared by every
/// gateway node. RedisRateLimiting does not say when a rejected client may retry, so on rejection (only) the oldest
/// entry of the window is read to compute an exact <c>Retry-After</c>.
/// </summary>
internal sealed class RedisSlidingWindowStore : IRateLimitStore
{
    private readonly RedisConnection _connection;
    private readonly TimeProvider _time;

    public RedisSlidingWindowStore(RedisConnection connection, TimeProvider time)
    {
        _connection = connection;
        _time = time;
    }

    public async Task<LimitOutcome> AcquireAsync(string partition, RateLimit limit)
    {
        var multiplexer = _connection.GetConnected();

        var options = new RedisSlidingWindowRateLimiterOptions
        {
            PermitLimit = limit.PermitLimit,
            Window = limit.Window,
            ConnectionMultiplexerFactory = () => multiplexer,
        };

        using var limiter = new RedisSlidingWindowRateLimiter<string>(partition, options);
        using var lease = await limiter.AcquireAsync(1);

        // The library reports the count before this request; what the client may still do is one less if admitted.
        lease.TryGetMetadata(RateLimitMetadataName.Remaining, out var remainingBefore);
        if (lease.IsAcquired)
        {
            return LimitOutcome.Admitted(limit, Math.Max(0, remainingBefore - 1));
        }

        var retryAfter = await RetryAfterAsync(multiplexer, partition, limit);
        return LimitOutcome.Rejected(limit, retryAfter);
    }

    private async Task<TimeSpan> RetryAfterAsync(IConnectionMultiplexer multiplexer, string partition, RateLimit limit)
    {
        var oldest = await multiplexer.GetDatabase().SortedSetRangeByRankWithScoresAsync(RedisKeys.SlidingWindowSet(partition), 0, 0);
        if (oldest.Length == 0)
        {
            return TimeSpan.FromSeconds(1);
        }

        // Scores are Unix seconds (with milliseconds) from the node that admitted the request.
        var nowSeconds = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var seconds = oldest[0].Score + limit.Window.TotalSeconds - nowSeconds;
        return TimeSpan.FromSeconds(Math.Clamp(seconds, 0, limit.Window.TotalSeconds));
    }
}
