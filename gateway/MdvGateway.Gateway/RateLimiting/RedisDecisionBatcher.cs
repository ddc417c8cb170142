using System.Globalization;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Sends the engine's operations to Redis, many per call: every decision, strike and give-back queued while a call is
/// in flight goes out in the next one, whatever its client or policy (one <c>decide.lua</c> call per batch).
/// </summary>
/// <remarks>
/// <para>
/// A lane has at most one call in flight. An operation that finds its lane idle is sent at once, on the caller's own
/// thread: a lone request on a quiet node costs one round trip and no thread hop. Operations that arrive meanwhile wait
/// for that call and leave together in the next, at most <see cref="MaxBatch"/> per call; the wait is the round trip in
/// flight, nothing is held back on purpose. Under load the batches grow with the traffic, so Redis's work per request
/// falls as the load rises.
/// </para>
/// <para>
/// On a single Redis there is one lane. On Redis Cluster a script must touch one slot, so there is a lane per bucket
/// (see <see cref="RedisKeys.SlotBuckets"/>): a batch then holds the operations of one bucket.
/// </para>
/// <para>
/// The circuit breaker hears once per call, not once per request; an operation that used up its
/// <c>Redis:TimeoutMs</c> queued behind a slow call is answered <see cref="StoreStatus.Expired"/> without being sent and
/// is no failure of Redis.
/// </para>
/// </remarks>
internal sealed partial class RedisDecisionBatcher
{
    /// <summary>The most operations one call carries; more wait for the next call.</summary>
    internal const int MaxBatch = 256;

    /// <summary>How long an operation may have queued before its deadline is enforced here rather than by the client.</summary>
    private static readonly TimeSpan QueuedThreshold = TimeSpan.FromMilliseconds(1);

    private readonly RedisConnection _connection;
    private readonly GatewaySettingsMonitor _settings;
    private readonly RedisCircuitBreaker _breaker;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ILogger<RedisDecisionBatcher> _logger;
    private readonly TimeSpan _timeout;
    private readonly Lane[] _lanes = [.. Enumerable.Range(0, RedisKeys.SlotBuckets).Select(_ => new Lane())];

    /// <summary>96 random bits, so that two nodes (or two runs of one) never write the same strike member.</summary>
    private readonly string _tag = Convert.ToBase64String(System.Security.Cryptography.RandomNumberGenerator.GetBytes(12));
    private long _calls;

    public RedisDecisionBatcher(RedisConnection connection, GatewaySettingsMonitor settings, RedisCircuitBreaker breaker, GatewayMetrics metrics, TimeProvider time, GatewayRedisConfiguration redis, ILogger<RedisDecisionBatcher> logger)
    {
        _connection = connection;
        _settings = settings;
        _breaker = breaker;
        _metrics = metrics;
        _time = time;
        _logger = logger;
        _timeout = TimeSpan.FromMilliseconds(redis.TimeoutMs);
    }

    /// <summary>
    /// Decides, just before a call is cut, whether a queued decision can be answered without it; may hand back an
    /// operation that must go first in the same call (the give-back of a reserve that expired).
    /// </summary>
    public LocalServer? ServeLocally { get; set; }

    /// <summary>Operations waiting for a call, over every lane (a hint for metrics and tests).</summary>
    internal int Queued => _lanes.Sum(l => l.QueueLength);

    /// <summary>Queues an operation; sends it at once when its lane has no call in flight.</summary>
    public void Enqueue(BatchOperation operation)
    {
        var lane = LaneOf(operation.Bucket);
        lock (lane)
        {
            if (lane.Busy)
            {
                lane.Queue.Add(operation);
                return;
            }

            lane.Busy = true;
        }

        // A reserve may have been installed between the caller's look and now (by the call that just left this lane
        // idle): a request it can serve must not be counted again.
        BatchOperation? first = null;
        if (operation is DecisionRequest request && ServeLocally is { } serve && serve(request, out first))
        {
            StartNext(lane);
            return;
        }

        _ = CallAsync(lane, first is null ? [operation] : [first, operation]);
    }

    private Lane LaneOf(int bucket)
        => _connection.TryGet() is { } multiplexer && IsCluster(multiplexer) ? _lanes[bucket] : _lanes[0];

    private static bool IsCluster(IConnectionMultiplexer multiplexer)
    {
        foreach (var server in multiplexer.GetServers())
        {
            if (server.ServerType == ServerType.Cluster)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Makes one call for <paramref name="batch"/>; when it returns, reads the answer, hands the lane to the next batch
    /// (its call is sent before this one's requests resume, so Redis is never idle while they run) and then answers
    /// this batch.
    /// </summary>
    private async Task CallAsync(Lane lane, List<BatchOperation> batch)
    {
        var settings = _settings.Current;
        var started = _time.GetTimestamp();
        RedisResult[]? results = null;
        Exception? failure = null;
        try
        {
            var keys = new List<RedisKey>(batch.Count * 2);
            var values = new List<RedisValue>(16 + (batch.Count * 8));
            WriteHeader(settings, values);
            foreach (var operation in batch)
            {
                operation.Write(settings.Redis.KeyPrefix, keys, values);
            }

            var call = _connection.GetConnected().GetDatabase().ScriptEvaluateAsync(RedisScripts.Decide, [.. keys], [.. values]);

            // The client times a call out after Redis:TimeoutMs from when it was sent. An operation that queued first
            // gets only what its own budget has left, so no request waits longer than Redis:TimeoutMs in all.
            var queuedFor = _time.GetElapsedTime(OldestOf(batch));
            var result = queuedFor < QueuedThreshold ? await call : await WithDeadlineAsync(call, _timeout - queuedFor);
            results = (RedisResult[])result!;
        }
        catch (Exception ex)
        {
            failure = ex;
        }

        var elapsed = _time.GetElapsedTime(started);
        if (failure is null && results is not null)
        {
            _metrics.RedisCall(elapsed, failed: false);
            _metrics.RedisBatch(DecisionsIn(batch));
            _breaker.RecordSuccess();
            try
            {
                var now = DateTimeOffset.FromUnixTimeMilliseconds((long)results[0]);
                var position = 1;
                foreach (var operation in batch)
                {
                    // Reserves are installed here, before the next batch is cut: the requests that queued meanwhile
                    // take them instead of going to Redis.
                    operation.Read(results, ref position, now);
                }
            }
            catch (Exception ex)
            {
                // An answer this code cannot read (a script of another version?) must neither hang the lane nor leave a
                // request unanswered: they get WhenStoreUnavailable like any failed call.
                Log.AnswerUnreadable(_logger, batch.Count, ex.GetType().Name, ex.Message);
                StartNext(lane);
                FailAll(batch);
                return;
            }

            StartNext(lane);
            foreach (var operation in batch)
            {
                operation.Deliver();
            }
        }
        else
        {
            _metrics.RedisCall(elapsed, failed: true);
            _breaker.RecordFailure();
            Log.CallFailed(_logger, batch.Count, failure?.GetType().Name ?? "?", failure?.Message ?? "no result");
            StartNext(lane);
            FailAll(batch);
        }
    }

    private static void FailAll(List<BatchOperation> batch)
    {
        foreach (var operation in batch)
        {
            operation.Fail(StoreStatus.Failed);
        }
    }

    /// <summary>Cuts the lane's next batch and sends it, or marks the lane idle when nothing waits.</summary>
    private void StartNext(Lane lane)
    {
        while (true)
        {
            List<BatchOperation> cut;
            lock (lane)
            {
                if (lane.Queue.Count == 0)
                {
                    lane.Busy = false;
                    return;
                }

                var take = Math.Min(lane.Queue.Count, MaxBatch);
                cut = lane.Queue.GetRange(0, take);
                lane.Queue.RemoveRange(0, take);
            }

            var batch = Prepare(cut);
            if (batch.Count > 0)
            {
                _ = CallAsync(lane, batch);
                return;
            }
        }
    }

    /// <summary>
    /// Answers what needs no call (expired requests, requests a reserve now serves) and writes the requests of one policy
    /// and partition as one operation. Runs outside the lane's lock: answering resumes requests.
    /// </summary>
    private List<BatchOperation> Prepare(List<BatchOperation> cut)
    {
        var batch = new List<BatchOperation>(cut.Count);
        Dictionary<(RateLimitPolicy, string), DecisionRequest>? heads = null;
        var now = _time.GetTimestamp();
        var abandoned = false;
        foreach (var operation in cut)
        {
            if (_time.GetElapsedTime(operation.EnqueuedAt, now) >= _timeout)
            {
                operation.Fail(StoreStatus.Expired);
                abandoned = true;
                continue;
            }

            if (operation is not DecisionRequest request)
            {
                batch.Add(operation);
                continue;
            }

            if (ServeLocally is { } serve)
            {
                var served = serve(request, out var first);
                if (first is not null)
                {
                    batch.Add(first);
                }

                if (served)
                {
                    continue;
                }
            }

            heads ??= [];
            if (heads.TryGetValue((request.Policy, request.Partition.Value), out var head) && head.StrikeClient == request.StrikeClient)
            {
                (head.Followers ??= []).Add(request);
                if (head.Policy.ReserveAhead)
                {
                    // Several requests of one partition in one call: a busy client, worth counting permits ahead for.
                    head.ReserveWanted = Math.Min(ReservationTable.MaxReserve, Math.Max(head.ReserveWanted, 2 * head.Count));
                }

                continue;
            }

            heads[(request.Policy, request.Partition.Value)] = request;
            batch.Add(request);
        }

        if (abandoned)
        {
            // A probe that never went out must not keep a half-open circuit waiting for its answer.
            _breaker.ReleaseProbe();
        }

        return batch;
    }

    private void WriteHeader(GatewaySettings settings, List<RedisValue> values)
    {
        var strikes = settings.Strikes;
        values.Add(string.Create(CultureInfo.InvariantCulture, $"{_tag}{Interlocked.Increment(ref _calls):x}"));
        values.Add((long)ReservationTable.ReserveFor.TotalMilliseconds);
        values.Add(strikes.StrikesBeforeBan);
        values.Add((long)strikes.StrikeWindow.TotalMilliseconds);
        values.Add((long)strikes.ForgetOffensesAfter.TotalMilliseconds);
        values.Add((long)(strikes.StrikeWindow + strikes.ForgetOffensesAfter + strikes.BanDurations.Max()).TotalMilliseconds);
        values.Add(MaxOffendersPerBucket);
        values.Add(strikes.BanDurations.Count);
        foreach (var duration in strikes.BanDurations)
        {
            values.Add((long)duration.TotalMilliseconds);
        }
    }

    /// <summary>The most clients each bucket's offenders index keeps (the most recent ones).</summary>
    internal const int MaxOffendersPerBucket = 100_000 / RedisKeys.SlotBuckets;

    private static int DecisionsIn(List<BatchOperation> batch)
    {
        var decisions = 0;
        foreach (var operation in batch)
        {
            decisions += operation is DecisionRequest request ? request.Count : 0;
        }

        return decisions;
    }

    private static long OldestOf(List<BatchOperation> batch)
    {
        var oldest = long.MaxValue;
        foreach (var operation in batch)
        {
            oldest = Math.Min(oldest, operation.EnqueuedAt);
        }

        return oldest;
    }

    private static async Task<RedisResult> WithDeadlineAsync(Task<RedisResult> call, TimeSpan deadline)
    {
        try
        {
            return await call.WaitAsync(deadline > TimeSpan.Zero ? deadline : TimeSpan.FromMilliseconds(1));
        }
        catch (TimeoutException)
        {
            // The call goes on without anyone waiting for it; its failure, if any, must not surface as an unobserved
            // task exception.
            _ = call.ContinueWith(static t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            throw;
        }
    }

    /// <summary>Answers a queued decision without a call if it can (see <see cref="ServeLocally"/>).</summary>
    public delegate bool LocalServer(DecisionRequest request, out BatchOperation? first);

    private sealed class Lane
    {
        /// <summary>Operations waiting for the next call, in arrival order. Guarded by the lane's lock, as is the flag.</summary>
        public List<BatchOperation> Queue { get; } = [];

        public bool Busy { get; set; }

        public int QueueLength
        {
            get
            {
                lock (this)
                {
                    return Queue.Count;
                }
            }
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 3004, Level = LogLevel.Warning, Message = "A rate-limit call to Redis for {Operations} operations failed: {ErrorType}: {Error}")]
        public static partial void CallFailed(ILogger logger, int operations, string errorType, string error);

        [LoggerMessage(EventId = 3005, Level = LogLevel.Error, Message = "The answer of a rate-limit call to Redis for {Operations} operations could not be read: {ErrorType}: {Error}")]
        public static partial void AnswerUnreadable(ILogger logger, int operations, string errorType, string error);
    }
}
