using System.Threading.RateLimiting;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Redis;
using RedisRateLimiting;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Failed admin authentications counted in Redis by RedisRateLimiting's fixed window, one partition per client address
/// (<see cref="RedisKeys.AdminAuthFailures"/>), so every node shares one count per address.
/// </summary>
/// <remarks>
/// <para>
/// The fixed window is the library's limiter that keeps what the per-node count always meant: the window opens at the
/// first counted attempt and lasts <c>Admin:AuthFailureWindow</c>, a failure is one permit, and a permit refused means
/// the address is locked out until the window ends. Its script checks and counts in one step, so concurrent guesses on
/// several nodes never get past the limit. A sliding window would need one sorted-set entry per failure and says
/// nothing about when a lockout ends.
/// </para>
/// <para>
/// The library's per-call cost (a script and two keys per call) is why the public listener does not use it; here it
/// is paid only by a wrong key, and by a valid key from an address this node has not seen locked out, which asks with
/// zero permits. Such a check opens a window when there is none (so a window may start at a successful request rather
/// than at the first failure); it never counts anything.
/// </para>
/// <para>
/// A limiter is built for each call and dropped: the state is in Redis, and the library's limiters report an idle time
/// of zero, which would keep every address ever seen alive in a <see cref="PartitionedRateLimiter"/>. The library
/// stamps windows with the node's clock in whole seconds (keep the nodes on NTP); the time left is rounded up to the
/// next second, so a lockout is never reported shorter than it is.
/// </para>
/// </remarks>
internal sealed class RedisFailedAuthenticationStore : IFailedAuthenticationStore
{
    private readonly RedisConnection _redis;
    private readonly GatewaySettingsMonitor _settings;

    public RedisFailedAuthenticationStore(RedisConnection redis, GatewaySettingsMonitor settings)
    {
        _redis = redis;
        _settings = settings;
    }

    public async Task<FailureVerdict> RecordFailureAsync(string client, int limit, TimeSpan window)
    {
        using var lease = await AcquireAsync(client, limit, window, permits: 1);
        var lockedFor = LockedFor(lease);
        return lease.IsAcquired ? new FailureVerdict(Counted: true, lockedFor) : new FailureVerdict(Counted: false, lockedFor ?? TimeSpan.FromSeconds(1));
    }

    public async Task<TimeSpan?> LockedOutForAsync(string client, int limit, TimeSpan window)
    {
        using var lease = await AcquireAsync(client, limit, window, permits: 0);
        return LockedFor(lease);
    }

    private async Task<RateLimitLease> AcquireAsync(string client, int limit, TimeSpan window, int permits)
    {
        var options = new RedisFixedWindowRateLimiterOptions
        {
            PermitLimit = limit,
            Window = window,
            // Throws at once while Redis is not connected: the caller falls back instead of waiting for a connection.
            ConnectionMultiplexerFactory = _redis.GetBackgroundConnected,
        };
        var partition = RedisRateLimitPartition.GetFixedWindowRateLimiter(RedisKeys.AdminAuthFailures(_settings.Current.Redis.KeyPrefix, client), _ => options);
        await using var limiter = partition.Factory(partition.PartitionKey);
        return await limiter.AcquireAsync(permits);
    }

    /// <summary>Locked out once the window's count has reached the limit: no permit remains.</summary>
    private static TimeSpan? LockedFor(RateLimitLease lease)
    {
        if (!lease.TryGetMetadata(RateLimitMetadataName.Remaining, out var remaining) || remaining > 0)
        {
            return null;
        }

        // The window lasts to the end of its last whole second on the library's clock.
        var seconds = lease.TryGetMetadata(RateLimitMetadataName.RetryAfter, out var retryAfter) ? Math.Max(0, retryAfter) : 0;
        return TimeSpan.FromSeconds(seconds + 1);
    }
}
