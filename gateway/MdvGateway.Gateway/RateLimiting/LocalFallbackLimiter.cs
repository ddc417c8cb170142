using System.Threading.RateLimiting;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// The per-node limiter used while Redis is unavailable and <c>WhenStoreUnavailable</c> is <c>FallbackToLocal</c>:
/// the same limits, counted in this process only (so N nodes admit up to N times the limit during an outage).
/// </summary>
internal sealed class LocalFallbackLimiter : IDisposable
{
    private const int SegmentsPerWindow = 10;

    private readonly PartitionedRateLimiter<(string Partition, RateLimit Limit)> _limiter =
        PartitionedRateLimiter.Create<(string Partition, RateLimit Limit), string>(resource =>
            RateLimitPartition.GetSlidingWindowLimiter(
                // The limit's values are part of the key so that a reload with new values starts a fresh window.
                string.Concat(resource.Partition, "|", resource.Limit.PermitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture), "|", resource.Limit.Window.Ticks.ToString(System.Globalization.CultureInfo.InvariantCulture)),
                _ => new SlidingWindowRateLimiterOptions
                {
                    PermitLimit = resource.Limit.PermitLimit,
                    Window = resource.Limit.Window,
                    SegmentsPerWindow = SegmentsPerWindow,
                    QueueLimit = 0,
                    AutoReplenishment = true,
                }));

    public LimitOutcome Acquire(string partition, RateLimit limit)
    {
        using var lease = _limiter.AttemptAcquire((partition, limit));
        if (lease.IsAcquired)
        {
            var statistics = _limiter.GetStatistics((partition, limit));
            return LimitOutcome.Admitted(limit, statistics?.CurrentAvailablePermits ?? 0);
        }

        var retryAfter = lease.TryGetMetadata(MetadataName.RetryAfter, out var after) ? after : limit.Window / SegmentsPerWindow;
        return LimitOutcome.Rejected(limit, retryAfter);
    }

    public void Dispose() => _limiter.Dispose();
}
