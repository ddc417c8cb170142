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
/// A busy partition far from its limit also gets a reserve: its call counts permits ahead (see
/// <see cref="Reservation"/>), which the requests that follow take here, without a call, for up to
/// <see cref="ReserveFor"/>. Reserves are taken only while the window stays at or below half its limit, and what is
/// not taken is given back, so they cost other nodes at most that many permits for that long; a partition in the upper
/// half of its limit is counted request by request. The batch script keeps the keys <see cref="ReserveFor"/> longer
/// than the library's, so they outlive every entry by a window; a lone request counted by the library's script sets
/// the expiry a window after itself, which cuts that margin only for a partition that then stays silent a whole
/// window.
/// </para>
/// <para>
/// RedisRateLimiting does not say when a rejected client may retry, so on rejection (only) the oldest entry of the
/// window is read to compute an exact <c>Retry-After</c> (the batch script returns it).
/// </para>
/// </remarks>
internal sealed class RedisSlidingWindowStore : IRateLimitStore, IAsyncDisposable
{
    /// <summary>The most requests one script call counts; more wait for the next call.</summary>
    internal const int MaxBatch = 256;

    /// <summary>The most thread-pool turns a lane waits for requests to join before it sends a batch.</summary>
    private const int MaxGatherYields = 4;

    /// <summary>The most permits one call reserves for the requests that will follow it (see <see cref="Reservation"/>).</summary>
    internal const int MaxReserve = 256;

    /// <summary>
    /// How long reserved permits may be handed out. Their entries are scored this far in the future, so each stays in
    /// the window at least a whole window after the request it admitted; 2% of the shortest window (one second).
    /// </summary>
    internal static readonly TimeSpan ReserveFor = TimeSpan.FromMilliseconds(20);

    /// <summary>
    /// KEYS: the window's sorted set and its statistics hash (RedisRateLimiting's names).
    /// ARGV: 1 permit limit, 2 requests in the batch, 3 now in Unix seconds (the entries' score), 4 the score at and
    /// below which entries have left the window (now minus the window), 5 the expiry in Unix milliseconds, 6 member
    /// prefix, 7 permits wanted in reserve, 8 the reserved entries' score (now plus <see cref="ReserveFor"/>),
    /// 9 the prefix of an earlier reservation's unused entries to give back ('' for none), 10 and 11 the first and last
    /// of their numbers.
    /// Returns { admitted, count before the batch, score of the oldest entry or -1 when all were admitted, reserved,
    /// given back }.
    /// </summary>
    /// <remarks>
    /// <para>
    /// The node computes the numbers the library's script derives from now and the window, with the same arithmetic,
    /// and sends them as strings: Lua then formats no numbers and Redis parses each of them once.
    /// </para>
    /// <para>
    /// Permits are reserved only when the whole batch is admitted and the window stays at or below half its limit
    /// afterwards: a partition near its limit is counted one request at a time, as the library does.
    /// </para>
    /// </remarks>
    internal const string BatchScript = """
        local returned = 0
        if ARGV[9] ~= '' then
          local unused = {}
          for i = tonumber(ARGV[10]), tonumber(ARGV[11]) do
            unused[#unused + 1] = ARGV[9] .. i
          end
          returned = redis.call('zrem', KEYS[1], unpack(unused))
          if returned > 0 then
            redis.call('hincrby', KEYS[2], 'total_successful', -returned)
          end
        end
        redis.call('zremrangebyscore', KEYS[1], '-inf', ARGV[4])
        local count = redis.call('zcard', KEYS[1])
        local limit = tonumber(ARGV[1])
        local requested = tonumber(ARGV[2])
        local admitted = math.max(0, math.min(requested, limit - count))
        local reserved = 0
        if admitted == requested then
          reserved = math.max(0, math.min(tonumber(ARGV[7]), math.floor(limit / 2) - count - admitted))
        end
        if admitted + reserved > 0 then
          local entries = {}
          local score, prefix = ARGV[3], ARGV[6]
          for i = 1, admitted do
            entries[2 * i - 1] = score
            entries[2 * i] = prefix .. i
          end
          score = ARGV[8]
          for i = admitted + 1, admitted + reserved do
            entries[2 * i - 1] = score
            entries[2 * i] = prefix .. i
          end
          redis.call('zadd', KEYS[1], unpack(entries))
          redis.call('hincrby', KEYS[2], 'total_successful', admitted + reserved)
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
        return { admitted, count, oldest, reserved, returned }
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
    /// <param name="time">The clock that timestamps window entries and times reserves.</param>
    /// <param name="metrics">Where batch sizes are recorded.</param>
    /// <param name="redis">Its <c>TimeoutMs</c> is the longest a request waits on Redis, queueing included.</param>
    public RedisSlidingWindowStore(RedisConnection connection, TimeProvider time, GatewayMetrics metrics, GatewayRedisConfiguration redis)
    {
        _connection = connection;
        _time = time;
        _metrics = metrics;
        _timeout = TimeSpan.FromMilliseconds(redis.TimeoutMs);
    }

    /// <summary>
    /// Partitions with a request queued or in flight on this node, or reserved permits not yet used (zero when idle:
    /// nothing is kept).
    /// </summary>
    internal int ActivePartitions => _lanes.Count;

    public Task<LimitOutcome> AcquireAsync(string partition, RateLimit limit)
    {
        Waiter? waiter = null;
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

                // Nobody queued ahead, and a permit counted in Redis by this node's last call is still unused: no call.
                if (lane.Pending.Count == 0 && lane.TryTakeReserved(limit, _time.GetTimestamp(), out var remaining))
                {
                    return Task.FromResult(LimitOutcome.Admitted(limit, remaining));
                }

                waiter ??= new Waiter(limit);
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

    /// <summary>
    /// Gives back the unused permits of every reserve this node still holds, as the node stops: otherwise a restart
    /// would leave them counted until they leave the window. Best effort, within <c>Redis:TimeoutMs</c>.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        var calls = new List<Task>();
        foreach (var lane in _lanes.Values)
        {
            Reservation? held;
            lock (lane)
            {
                held = lane.Reserved is { Unused: > 0 } reserved ? reserved : null;
                lane.Reserved = null;
            }

            if (held is not null)
            {
                calls.Add(AcquireBatchAsync(lane, [], 0, held, _time.GetTimestamp()));
            }
        }

        try
        {
            await Task.WhenAll(calls).WaitAsync(_timeout);
        }
        catch (Exception)
        {
            // Redis is away or slow: the permits stay counted until they leave the window (fewer admitted, never more).
        }
    }

    private async Task FlushAsync(Lane lane)
    {
        var batch = new List<Waiter>();
        var expired = new List<Waiter>();
        var queuedBehindCall = false;
        while (true)
        {
            batch.Clear();
            expired.Clear();
            await GatherAsync(lane);
            Reservation? giveBack;
            int reserve;
            long cutAt;
            lock (lane)
            {
                cutAt = _time.GetTimestamp();
                if (TryFinish(lane, cutAt))
                {
                    return;
                }

                // One limit per call: after a reload, requests of the same partition may carry the old and the new one.
                // A request that has already waited Redis:TimeoutMs behind the call in flight is not sent at all.
                var limit = lane.Pending.Count > 0 ? lane.Pending[0].Limit : null;
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

                // This call replaces whatever this node still holds in reserve, and gives back what is unused of it.
                giveBack = lane.Reserved is { Unused: > 0 } held ? held : null;
                lane.Reserved = null;
                reserve = batch.Count == 0 || !limit!.ReserveAhead ? 0 : PermitsToReserve(lane, cutAt, batch.Count, queuedBehindCall);
                lane.LastCutAt = cutAt;
                lane.TakenSinceCut = 0;
            }

            foreach (var waiter in expired)
            {
                waiter.TrySetException(new TimeoutException($"Waited Redis:TimeoutMs ({_timeout.TotalMilliseconds:0} ms) behind the call in flight for the same client"));
            }

            if (batch.Count == 0 && giveBack is null)
            {
                continue;
            }

            queuedBehindCall = true;

            try
            {
                // Redis:TimeoutMs bounds a request's whole wait on Redis, the time it queued behind the call in flight
                // included. The client times a call out TimeoutMs after sending it; a batch whose oldest request has
                // queued gets only what is left of that request's time.
                var waited = batch.Count == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(batch[0].EnqueuedAt);
                if (batch.Count > 0)
                {
                    _metrics.RedisBatch(batch.Count);
                }

                var call = batch.Count == 1 && reserve == 0 && giveBack is null
                    ? SetOneAsync(lane.Partition, batch[0])
                    : AcquireBatchAsync(lane, batch, reserve, giveBack, cutAt);
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
                // Permits it may have reserved or failed to give back stay counted until they leave the window:
                // the partition may admit fewer for a while, never more.
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
    /// How many permits the call about to be cut should reserve. None for a partition that is not busy, whose requests
    /// neither queued behind its previous call nor came within <see cref="ReserveFor"/> of it: an occasional client
    /// pays nothing for permits it would not use. Otherwise twice what the partition took since that call, so a steady
    /// client's reserve grows until it covers about one <see cref="ReserveFor"/> and shrinks when the client slows.
    /// Called under the lane's lock.
    /// </summary>
    private int PermitsToReserve(Lane lane, long cutAt, int batch, bool queuedBehindCall)
    {
        var busy = queuedBehindCall || (lane.LastCutAt != 0 && _time.GetElapsedTime(lane.LastCutAt, cutAt) <= ReserveFor);
        if (!busy)
        {
            return 0;
        }

        return (int)Math.Min(MaxReserve, 2L * (lane.TakenSinceCut + batch));
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

    /// <summary>
    /// Ends the flush when nothing waits: the lane leaves the table unless this node still holds unused permits for it,
    /// which the timer set when they were reserved gives back (see <see cref="GiveBackWhenExpiredAsync"/>). False when
    /// requests wait, or when an expired reserve has permits left to give back. Called under the lane's lock.
    /// </summary>
    private bool TryFinish(Lane lane, long now)
    {
        if (lane.Pending.Count > 0 || (lane.Reserved is { Unused: > 0 } held && held.HasExpired(now)))
        {
            return false;
        }

        lane.Flushing = false;
        if (lane.Reserved is { Unused: > 0 })
        {
            return true;
        }

        lane.Reserved = null;
        lane.Retired = true;
        _lanes.TryRemove(new KeyValuePair<string, Lane>(lane.Partition, lane));
        return true;
    }

    /// <summary>
    /// Gives back what is left of <paramref name="reserved"/> once it can no longer be used, unless a call has already
    /// replaced it. Without this a client that stopped would keep its unused permits counted for a whole window.
    /// </summary>
    private async Task GiveBackWhenExpiredAsync(Lane lane, Reservation reserved)
    {
        await Task.Delay(ReserveFor + TimeSpan.FromMilliseconds(1), _time);
        lock (lane)
        {
            // A flush in progress gives it back itself when it next finds nothing to send (TryFinish).
            if (lane.Reserved != reserved || lane.Flushing || lane.Retired)
            {
                return;
            }

            if (TryFinish(lane, _time.GetTimestamp()))
            {
                return;
            }

            lane.Flushing = true;
        }

        _ = FlushAsync(lane);
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

    private async Task AcquireBatchAsync(Lane lane, List<Waiter> batch, int reserve, Reservation? giveBack, long cutAt)
    {
        var database = _connection.GetConnected().GetDatabase();
        var limit = batch.Count > 0 ? batch[0].Limit : giveBack!.Limit;
        var nowSeconds = _time.GetUtcNow().ToUnixTimeMilliseconds() / 1000.0;
        var windowSeconds = limit.Window.TotalSeconds;
        var reserveSeconds = ReserveFor.TotalSeconds;
        var window = RedisKeys.SlidingWindowSet(lane.Partition);
        var prefix = NextMemberPrefix();
        RedisKey[] keys = [window, window + ":stats"];
        RedisValue[] values =
        [
            limit.PermitLimit,
            batch.Count,
            nowSeconds,
            nowSeconds - windowSeconds,

            // Reserved entries are scored up to ReserveFor ahead: the keys outlive them by a window too.
            (long)Math.Floor(((nowSeconds + windowSeconds + reserveSeconds) * 1000) + 1),
            prefix,
            reserve,
            nowSeconds + reserveSeconds,
            giveBack?.Prefix ?? string.Empty,
            giveBack?.Next ?? 0,
            giveBack?.Last ?? 0,
        ];

        var result = (RedisResult[])(await database.ScriptEvaluateAsync(BatchScript, keys, values))!;
        var admitted = (int)result[0];
        var countBefore = (long)result[1];
        var oldest = double.Parse((string)result[2]!, NumberStyles.Float, CultureInfo.InvariantCulture);
        var reserved = (int)result[3];
        var returned = (int)result[4];
        var retryAfter = oldest < 0
            ? TimeSpan.Zero
            : TimeSpan.FromSeconds(Math.Clamp(oldest + windowSeconds - nowSeconds, 0, windowSeconds));
        _metrics.ReservedPermits(reserved, returned);

        List<(Waiter Waiter, long Remaining)>? queued = null;
        if (reserved > 0)
        {
            // Installed before the batch's requests resume, so the requests that follow them find it. Its entries are
            // numbered after the batch's, and whoever takes one is told what is left once the batch and it are counted.
            // The requests that queued while this call was in flight take theirs first, in arrival order.
            var reservation = new Reservation(limit, prefix, admitted + 1, admitted + reserved,
                limit.PermitLimit - countBefore - admitted, cutAt + (long)(reserveSeconds * _time.TimestampFrequency));
            bool installed;
            lock (lane)
            {
                // Only a result that arrives after its request's deadline finds another reserve here (the next call was
                // cut meanwhile) or the lane gone; its permits then stay counted until they leave the window.
                installed = lane.Reserved is null && !lane.Retired;
                if (installed)
                {
                    lane.Reserved = reservation;
                    var now = _time.GetTimestamp();
                    var taken = 0;
                    while (taken < lane.Pending.Count && lane.TryTakeReserved(lane.Pending[taken].Limit, now, out var remaining))
                    {
                        (queued ??= []).Add((lane.Pending[taken], remaining));
                        taken++;
                    }

                    lane.Pending.RemoveRange(0, taken);
                }
            }

            if (installed)
            {
                _ = GiveBackWhenExpiredAsync(lane, reservation);
            }
        }

        for (var i = 0; i < batch.Count; i++)
        {
            batch[i].TrySetResult(i < admitted
                ? LimitOutcome.Admitted(limit, Math.Max(0, limit.PermitLimit - countBefore - i - 1))
                : LimitOutcome.Rejected(limit, retryAfter));
        }

        foreach (var (waiter, remaining) in queued ?? [])
        {
            waiter.TrySetResult(LimitOutcome.Admitted(limit, remaining));
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

        /// <summary>Permits this node's last call counted ahead in Redis for the requests that follow; null when none.</summary>
        public Reservation? Reserved { get; set; }

        /// <summary>When the last call was cut (the store's <see cref="TimeProvider.GetTimestamp"/>); zero before the first.</summary>
        public long LastCutAt { get; set; }

        /// <summary>Requests admitted from <see cref="Reserved"/> since the last call was cut.</summary>
        public int TakenSinceCut { get; set; }

        /// <summary>Admits a request from <see cref="Reserved"/> if it can (caller holds the lane's lock).</summary>
        public bool TryTakeReserved(RateLimit limit, long now, out long remaining)
        {
            remaining = 0;
            if (Reserved is not { } reserved || !reserved.TryTake(limit, now, out remaining))
            {
                return false;
            }

            TakenSinceCut++;
            return true;
        }
    }

    /// <summary>
    /// Permits one call counted in Redis beyond its batch (entries <see cref="Prefix"/><c>Next</c> to
    /// <see cref="Prefix"/><see cref="Last"/>, scored <see cref="ReserveFor"/> ahead), which this node hands to the
    /// requests that follow without a call of their own until they run out or <see cref="ReserveFor"/> has passed.
    /// Guarded by the lane's lock.
    /// </summary>
    /// <remarks>
    /// Each entry is scored no earlier than the request that takes it, so it stays in the window at least a whole window
    /// after that request: the partition never admits more than its limit. What is not taken is given back (removed)
    /// by the next call or by the timer; until then the partition may admit that many fewer.
    /// </remarks>
    private sealed class Reservation(RateLimit limit, string prefix, int first, int last, long remainingBefore, long usableUntil)
    {
        public RateLimit Limit { get; } = limit;

        public string Prefix { get; } = prefix;

        /// <summary>The number of the next entry to hand out.</summary>
        public int First { get; } = first;

        public int Next { get; private set; } = first;

        public int Last { get; } = last;

        public int Unused => Last - Next + 1;

        public bool HasExpired(long now) => now >= usableUntil;

        public bool TryTake(RateLimit limit, long now, out long remaining)
        {
            remaining = 0;
            if (Next > Last || now >= usableUntil || limit != Limit)
            {
                return false;
            }

            // What the partition has left once this request is counted, as if each reserved permit were still free
            // until taken: the same count a call of its own at the time of the reservation would have reported.
            remaining = Math.Max(0, remainingBefore - (Next - First) - 1);
            Next++;
            return true;
        }
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
