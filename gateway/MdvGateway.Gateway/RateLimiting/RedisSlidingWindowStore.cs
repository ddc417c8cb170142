using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.Redis;
using RedisRateLimiting;
using StackExchange.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Sliding windows in Redis, shared by every gateway node: RedisRateLimiting's sorted set per partition
/// (<c>rl:sw:{partition}</c>, one member per admitted request, scored by the admitting node's clock in seconds).
/// </summary>
/// <remarks>
/// <para>
/// A partition has at most one Redis call in flight from this node. Requests of that partition that arrive while it
/// is in flight queue behind it and are counted together by the next call, in arrival order:
/// </para>
/// <list type="bullet">
/// <item>one request alone goes through RedisRateLimiting's own limiter and script;</item>
/// <item>several go through <see cref="BatchScript"/>, which applies the same steps to each of them in one atomic
/// script: drop what left the window, count, admit while the count is under the limit, refresh the expiry and the
/// statistics hash. The result is what the library's script gives when it runs once per request at that instant,
/// so nodes that batch and nodes that do not share a window exactly.</item>
/// </list>
/// <para>
/// Before each call is cut, the lane yields to the thread pool (see <see cref="GatherAsync"/>), so requests already
/// on their way, such as the rest of a burst, join it rather than waiting for the next one.
/// </para>
/// <para>
/// Batching is what makes a busy partition cheap: one round trip and one script run serve every request that
/// queued, instead of one each. A partition with no traffic has no state here. <c>Redis:TimeoutMs</c> still bounds
/// each request's whole wait, queueing included; when a call fails, the requests queued behind it fail with it.
/// </para>
/// <para>
/// RedisRateLimiting does not say when a rejected client may retry, so on rejection (only) the oldest entry of the
/// window is read to compute an exact <c>Retry-After</c> (the batch script returns it).
/// </para>
/// </remarks>
internal sealed class RedisSlidingWindowStore : IRateLimitStore
{
    /// <summary>The most requests one script call counts; more wait for the next call.</summary>
    internal const int MaxBatch = 256;

    /// <summary>The most thread-pool turns a lane waits for requests to join before it sends a batch.</summary>
    private const int MaxGatherYields = 4;

    /// <summary>
    /// KEYS: the window's sorted set and its statistics hash (RedisRateLimiting's names).
    /// ARGV: permit limit, requests in the batch, now in Unix seconds (the entries' score), the score at and below
    /// which entries have left the window (now minus the window), the expiry in Unix milliseconds, member prefix.
    /// Returns { admitted, count before the batch, score of the oldest entry or -1 when all were admitted }.
    /// </summary>
    /// <remarks>
    /// The node computes the numbers the library's script derives from now and the window, with the same arithmetic,
    /// and sends them as strings: Lua then formats no numbers and Redis parses each of them once.
    /// </remarks>
    internal const string BatchScript = """
        redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[4])
        local count = redis.call('zcard', KEYS[1])
        local requested = tonumber(ARGV[2])
        local admitted = math.max(0, math.min(requested, tonumber(ARGV[1]) - count))
        if admitted > 0 then
          local entries = {}
          local score, prefix = ARGV[3], ARGV[6]
          for i = 1, admitted do
            entries[2 * i - 1] = score
            entries[2 * i] = prefix .. i
          end
          redis.call('zadd', KEYS[1], unpack(entries))
          redis.call('hincrby', KEYS[2], 'total_successful', admitted)
        end
        redis.call('pexpireat', KEYS[1], ARGV[5])
        local oldest = '-1'
        if admitted < requested then
          redis.call('hincrby', KEYS[2], 'total_failed', requested - admitted)
          local first = redis.call('zrange', KEYS[1], 0, 0, 'WITHSCORES')
          if first[2] then
            oldest = first[2]
          end
        end
        redis.call('pexpireat', KEYS[2], ARGV[5])
        return { admitted, count, oldest }
        """;

    /// <summary>How long a request may have queued before its deadline is enforced here rather than by the client.</summary>
    private static readonly TimeSpan QueuedThreshold = TimeSpan.FromMilliseconds(1);

    private readonly RedisConnection _connection;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly TimeSpan _timeout;
    private readonly ConcurrentDictionary<string, Lane> _lanes = new(StringComparer.Ordinal);

    /// <summary>96 random bits, so two nodes (or two runs of one) never write the same member.</summary>
    private readonly string _memberTag = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
    private long _calls;

    /// <param name="connection">The request path's Redis connection.</param>
    /// <param name="time">The clock that timestamps window entries.</param>
    /// <param name="metrics">Where batch sizes are recorded.</param>
    /// <param name="redis">Its <c>TimeoutMs</c> is the longest a request waits on Redis, queueing included.</param>
    public RedisSlidingWindowStore(RedisConnection connection, TimeProvider time, GatewayMetrics metrics, GatewayRedisConfiguration redis)
    {
        _connection = connection;
        _time = time;
        _metrics = metrics;
        _timeout = TimeSpan.FromMilliseconds(redis.TimeoutMs);
    }

    /// <summary>Partitions with a request queued or in flight on this node (zero when idle: nothing is kept).</summary>
    internal int ActivePartitions => _lanes.Count;

    public Task<LimitOutcome> AcquireAsync(string partition, RateLimit limit)
    {
        var waiter = new Waiter(limit);
        while (true)
        {
            var lane = _lanes.GetOrAdd(partition, static p => new Lane(p));
            bool startFlush;
            lock (lane)
            {
                if (lane.Retired)
                {
                    // It went idle and left the table between GetOrAdd and the lock; the next GetOrAdd makes a new one.
                    continue;
                }

                lane.Pending.Add(waiter);
                startFlush = !lane.Flushing;
                lane.Flushing = true;
            }

            if (startFlush)
            {
                _ = FlushAsync(lane);
            }

            return waiter.Task;
        }
    }

    private async Task FlushAsync(Lane lane)
    {
        var batch = new List<Waiter>();
        var expired = new List<Waiter>();
        while (true)
        {
            batch.Clear();
            expired.Clear();
            await GatherAsync(lane);
            if (TryRetire(lane))
            {
                return;
            }

            lock (lane)
            {
                // Never empty here: the request that started this flush, or those TryRetire found, are still queued
                // (only this loop takes requests out of the lane).
                //
                // One limit per call: after a reload, requests of the same partition may carry the old and the new one.
                // A request that has already waited Redis:TimeoutMs behind the call in flight is not sent at all.
                var limit = lane.Pending[0].Limit;
                lane.Pending.RemoveAll(w =>
                {
                    if (Stopwatch.GetElapsedTime(w.EnqueuedAt) >= _timeout)
                    {
                        expired.Add(w);
                        return true;
                    }

                    if (batch.Count < MaxBatch && w.Limit == limit)
                    {
                        batch.Add(w);
                        return true;
                    }

                    return false;
                });
            }

            foreach (var waiter in expired)
            {
                waiter.TrySetException(new TimeoutException($"Waited Redis:TimeoutMs ({_timeout.TotalMilliseconds:0} ms) behind the call in flight for the same client"));
            }

            if (batch.Count == 0)
            {
                continue;
            }

            try
            {
                // Redis:TimeoutMs bounds a request's whole wait on Redis, the time it queued behind the call in flight
                // included. The client times a call out TimeoutMs after sending it; a batch whose oldest request has
                // queued gets only what is left of that request's time.
                var waited = Stopwatch.GetElapsedTime(batch[0].EnqueuedAt);
                _metrics.RedisBatch(batch.Count);
                var call = batch.Count == 1 ? SetOneAsync(lane.Partition, batch[0]) : AcquireBatchAsync(lane.Partition, batch);
                if (waited > QueuedThreshold)
                {
                    await WithDeadlineAsync(call, _timeout - waited);
                }
                else
                {
                    await call;
                }
            }
            catch (Exception ex)
            {
                // Redis just failed to answer for this partition. The requests queued behind the call fail with it
                // rather than each waiting a whole timeout of their own; the caller applies WhenStoreUnavailable.
                List<Waiter> behind;
                lock (lane)
                {
                    behind = [.. lane.Pending];
                    lane.Pending.Clear();
                }

                foreach (var waiter in batch)
                {
                    waiter.TrySetException(ex);
                }

                foreach (var waiter in behind)
                {
                    waiter.TrySetException(ex);
                }
            }
        }
    }

    /// <summary>
    /// Lets the work already queued on the thread pool run before a batch is cut: under load it is mostly requests
    /// about to join this lane, and each one that makes the batch saves Redis and this node a round trip of its own.
    /// It yields once, and again while the lane keeps growing, at most <see cref="MaxGatherYields"/> times. An idle
    /// node pays one thread-pool hop per call, a few microseconds against a Redis round trip.
    /// </summary>
    private static async Task GatherAsync(Lane lane)
    {
        var queued = lane.PendingCount;
        for (var i = 0; i < MaxGatherYields; i++)
        {
            await Task.Yield();
            var now = lane.PendingCount;
            if (now == queued)
            {
                return;
            }

            queued = now;
        }
    }

    /// <summary>Takes an idle lane out of the table (nothing queued, nothing in flight); false if requests wait.</summary>
    private bool TryRetire(Lane lane)
    {
        lock (lane)
        {
            if (lane.Pending.Count > 0)
            {
                return false;
            }

            lane.Flushing = false;
            lane.Retired = true;
            _lanes.TryRemove(new KeyValuePair<string, Lane>(lane.Partition, lane));
            return true;
        }
    }

    private static async Task WithDeadlineAsync(Task call, TimeSpan deadline)
    {
        try
        {
            await call.WaitAsync(deadline);
        }
        catch (TimeoutException)
        {
            // The call goes on without anyone waiting for it; its late result is dropped (results are set with
            // TrySet*), and its failure, if any, must not surface as an unobserved task exception.
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    private async Task SetOneAsync(string partition, Waiter waiter)
        => waiter.TrySetResult(await AcquireOneAsync(partition, waiter.Limit));

    private async Task<LimitOutcome> AcquireOneAsync(string partition, RateLimit limit)
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

    private async Task AcquireBatchAsync(string partition, List<Waiter> batch)
    {
        var database = _connection.GetConnected().GetDatabase();
        var limit = batch[0].Limit;
        var nowSeconds = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var windowSeconds = limit.Window.TotalSeconds;
        var window = RedisKeys.SlidingWindowSet(partition);
        RedisKey[] keys = [window, window + ":stats"];
        RedisValue[] values =
        [
            limit.PermitLimit,
            batch.Count,
            nowSeconds,
            nowSeconds - windowSeconds,
            (long)Math.Floor(((nowSeconds + windowSeconds) * 1000) + 1),
            NextMemberPrefix(),
        ];

        var result = (RedisResult[])(await database.ScriptEvaluateAsync(BatchScript, keys, values))!;
        var admitted = (int)result[0];
        var countBefore = (long)result[1];
        var oldest = double.Parse((string)result[2]!, NumberStyles.Float, CultureInfo.InvariantCulture);
        var retryAfter = oldest < 0
            ? TimeSpan.Zero
            : TimeSpan.FromSeconds(Math.Clamp(oldest + windowSeconds - nowSeconds, 0, windowSeconds));

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].TrySetResult(i < admitted
                ? LimitOutcome.Admitted(limit, Math.Max(0, limit.PermitLimit - countBefore - i - 1))
                : LimitOutcome.Rejected(limit, retryAfter));
        }
    }

    /// <summary>
    /// A prefix no other call of any node uses: this store's random tag and the number of its call, in hexadecimal
    /// (entries are <c>prefix</c> and their position in the batch). Shorter than a GUID per entry, which the window's
    /// sorted set stores and hashes once per admitted request.
    /// </summary>
    private string NextMemberPrefix()
        => string.Create(CultureInfo.InvariantCulture, $"{_memberTag}{Interlocked.Increment(ref _calls):x}:");

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

    /// <summary>The requests of one partition waiting for, or being counted by, this node's call to Redis.</summary>
    private sealed class Lane(string partition)
    {
        public string Partition { get; } = partition;

        /// <summary>Requests not yet sent, in arrival order. Guarded by the lane's lock, as are the flags.</summary>
        public List<Waiter> Pending { get; } = [];

        /// <summary>How many requests wait; only a hint for <see cref="GatherAsync"/>, stale as soon as it is read.</summary>
        public int PendingCount
        {
            get
            {
                lock (this)
                {
                    return Pending.Count;
                }
            }
        }

        public bool Flushing { get; set; }

        public bool Retired { get; set; }
    }

    /// <remarks>
    /// Continuations run synchronously: the flush resumes on a thread-pool thread (StackExchange.Redis completes its
    /// tasks asynchronously), and handing each request to the pool again would cost a thread switch per request for
    /// nothing. Results are always set outside the lane's lock.
    /// </remarks>
    private sealed class Waiter(RateLimit limit) : TaskCompletionSource<LimitOutcome>
    {
        public RateLimit Limit { get; } = limit;

        /// <summary>When the request arrived (<see cref="Stopwatch.GetTimestamp"/>).</summary>
        public long EnqueuedAt { get; } = Stopwatch.GetTimestamp();
    }
}
