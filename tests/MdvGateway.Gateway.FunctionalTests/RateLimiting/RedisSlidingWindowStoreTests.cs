using System.Collections.Concurrent;
using System.Diagnostics;
using System.Diagnostics.Metrics;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.RateLimiting;

/// <summary>
/// The store on its own against a real redis-server: requests of one partition that queue behind the call in flight
/// are counted together, with exactly the results one call each would give. A private server is frozen (SIGSTOP) while
/// requests are issued, so which requests share a call is certain rather than a matter of timing.
/// </summary>
public sealed class RedisSlidingWindowStoreTests
{
    [Fact]
    public async Task RequestsQueuedBehindTheCallInFlight_AreCountedByOneCall_AndAdmitExactlyThePermitLimit()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint);
        var limit = new RateLimit("default", 20, TimeSpan.FromSeconds(30));

        var outcomes = await store.WhileFrozenAsync(redis, 50, _ => store.Store.AcquireAsync("p1", limit));

        // The first request went alone (RedisRateLimiting's own script); the 49 that queued behind it shared one call.
        Assert.Equal([1, 49], store.BatchSizes);
        for (var i = 0; i < 20; i++)
        {
            Assert.True(outcomes[i].Acquired, $"request {i} should be admitted");
            Assert.Equal(19 - i, outcomes[i].Remaining);
        }

        foreach (var rejected in outcomes[20..])
        {
            Assert.False(rejected.Acquired);
            Assert.InRange(rejected.RetryAfter, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30));
        }

        await using var check = await redis.ConnectAsync();
        var database = check.GetDatabase();
        Assert.Equal(20, await database.SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p1")));
        var stats = await database.HashGetAllAsync(RedisKeys.SlidingWindowSet("p1") + ":stats");
        Assert.Equal(20, (long)stats.Single(e => e.Name == "total_successful").Value);
        Assert.Equal(30, (long)stats.Single(e => e.Name == "total_failed").Value);

        // Both keys expire a window after the last call, as the library's script sets them, plus how far ahead a reserve
        // is scored: the keys outlive every entry by a window.
        foreach (var key in new[] { RedisKeys.SlidingWindowSet("p1"), RedisKeys.SlidingWindowSet("p1") + ":stats" })
        {
            var ttl = await database.KeyTimeToLiveAsync(key);
            Assert.NotNull(ttl);
            Assert.InRange(ttl.Value, TimeSpan.FromSeconds(25), TimeSpan.FromSeconds(30.01) + RedisSlidingWindowStore.ReserveFor);
        }
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(store.Store.ActivePartitions == 0)), "an idle partition keeps no state");
    }

    [Fact]
    public async Task SingleAndBatchedCalls_ShareOneWindow_AcrossNodes()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var node1 = await StoreUnderTest.StartAsync(redis.Endpoint);
        await using var node2 = await StoreUnderTest.StartAsync(redis.Endpoint);
        var limit = new RateLimit("default", 10, TimeSpan.FromMinutes(1));

        // Seven requests one after the other: each is alone, so each goes through RedisRateLimiting.
        for (var i = 0; i < 7; i++)
        {
            var outcome = await node1.Store.AcquireAsync("p2", limit);
            Assert.True(outcome.Acquired);
            Assert.Equal(9 - i, outcome.Remaining);
        }

        // Six at once on the other node: one alone, five counted together by the batch script.
        var outcomes = await node2.WhileFrozenAsync(redis, 6, _ => node2.Store.AcquireAsync("p2", limit));

        Assert.Equal([1, 5], node2.BatchSizes);
        Assert.Equal([true, true, true, false, false, false], outcomes.Select(o => o.Acquired));
        Assert.Equal([2L, 1L, 0L], outcomes[..3].Select(o => o.Remaining));
        Assert.False((await node1.Store.AcquireAsync("p2", limit)).Acquired);
    }

    [Fact]
    public async Task MoreRequestsThanOneCallTakes_AreCountedBySeveralCalls_InArrivalOrder()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint);
        // 500 leaves no room for a reserve (the second call takes the window past half of it), so every request is
        // counted by a call.
        var limit = new RateLimit("default", 500, TimeSpan.FromMinutes(1));
        var requests = RedisSlidingWindowStore.MaxBatch + 44;

        var outcomes = await store.WhileFrozenAsync(redis, requests, _ => store.Store.AcquireAsync("p3", limit));

        Assert.Equal([1, RedisSlidingWindowStore.MaxBatch, 43], store.BatchSizes);
        Assert.All(outcomes, o => Assert.True(o.Acquired));
        Assert.Equal(Enumerable.Range(0, requests).Select(i => 499L - i), outcomes.Select(o => o.Remaining));
    }

    [Fact]
    public async Task RequestsArrivingTogether_AtAnIdlePartition_ShareItsFirstCall()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint);
        using var pump = new SingleThreadContext();
        var limit = new RateLimit("default", 1000, TimeSpan.FromMinutes(1));

        // Twenty requests issued by one piece of work, as one thread-pool item handling a burst would. The first finds
        // the partition idle; before its call is sent the store yields, and the yield runs only after the burst.
        var pending = await pump.RunAsync(() => Enumerable.Range(0, 20).Select(_ => store.Store.AcquireAsync("p7", limit)).ToArray());
        var outcomes = await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(30));

        Assert.Equal([20], store.BatchSizes);
        Assert.Equal(Enumerable.Range(0, 20).Select(i => 999L - i), outcomes.Select(o => o.Remaining));
    }

    [Fact]
    public async Task EntriesThatLeftTheWindow_AreTrimmedBeforeABatchIsCounted()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint);
        using var pump = new SingleThreadContext();
        var limit = new RateLimit("default", 5, TimeSpan.FromSeconds(3));

        // Every call here is a batch (a burst issued on a single-threaded context shares one call), so no request goes
        // alone through the library, whose own script would do the trimming instead.
        async Task<LimitOutcome[]> BurstAsync(int count)
        {
            var pending = await pump.RunAsync(() => Enumerable.Range(0, count).Select(_ => store.Store.AcquireAsync("p8", limit)).ToArray());
            return await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(30));
        }

        var started = Stopwatch.StartNew();
        Assert.All(await BurstAsync(3), o => Assert.True(o.Acquired));
        await Task.Delay(TimeSpan.FromSeconds(1.5));
        Assert.All(await BurstAsync(2), o => Assert.True(o.Acquired));

        // The first three are now older than the window, the last two are not (they are about 1.8 s old). The key
        // itself is still there: the second call pushed its expiry on.
        var rest = TimeSpan.FromSeconds(3.3) - started.Elapsed;
        if (rest > TimeSpan.Zero)
        {
            await Task.Delay(rest);
        }

        var outcomes = await BurstAsync(8);

        Assert.Equal([3, 2, 8], store.BatchSizes);
        Assert.Equal([true, true, true, false, false, false, false, false], outcomes.Select(o => o.Acquired));
        Assert.Equal([2L, 1L, 0L], outcomes[..3].Select(o => o.Remaining));
        await using var check = await redis.ConnectAsync();
        Assert.Equal(5, await check.GetDatabase().SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p8")));
    }

    [Fact]
    public async Task RequestsCarryingAnotherLimit_AreNotCountedWithTheOthers()
    {
        // After a reload, requests of one partition may carry the old limit and the new one at the same time.
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint);
        var before = new RateLimit("default", 5, TimeSpan.FromMinutes(1));
        var after = new RateLimit("default", 2, TimeSpan.FromMinutes(1));

        RateLimit[] carried = [before, before, after, after, after, before];
        var outcomes = await store.WhileFrozenAsync(redis, carried.Length, i => store.Store.AcquireAsync("p4", carried[i]));

        // The first alone; then the two other old-limit requests together; then the three new-limit ones, which find
        // three entries in the window and a limit of two.
        Assert.Equal([1, 2, 3], store.BatchSizes);
        Assert.Equal([true, true, false, false, false, true], outcomes.Select(o => o.Acquired));
        Assert.Equal([before, before, after, after, after, before], outcomes.Select(o => o.Limit));
    }

    [Fact]
    public async Task ABusyPartitionFarFromItsLimit_TakesTheNextPermitsFromAReserve_WithoutACall()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint, time: clock);
        var limit = new RateLimit("default", 1000, TimeSpan.FromMinutes(1));
        var key = RedisKeys.SlidingWindowSet("p9");

        // The first goes alone; the 29 that queued behind it show the partition is busy, so their call also counts
        // twice as many permits ahead (58), scored ReserveFor after the call.
        var outcomes = await store.WhileFrozenAsync(redis, 30, _ => store.Store.AcquireAsync("p9", limit));

        Assert.Equal([1, 29], store.BatchSizes);
        Assert.Equal(Enumerable.Range(0, 30).Select(i => 999L - i), outcomes.Select(o => o.Remaining));
        await using var check = await redis.ConnectAsync();
        var database = check.GetDatabase();
        var scores = (await database.SortedSetRangeByRankWithScoresAsync(key)).GroupBy(e => e.Score).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(88, scores.Values.Sum());
        var batchScore = Assert.Single(scores, s => s.Value == 29).Key;
        var reserveScore = Assert.Single(scores, s => s.Value == 58).Key;
        Assert.Equal(RedisSlidingWindowStore.ReserveFor.TotalSeconds, reserveScore - batchScore, 6);

        // The next ten are answered at once from the reserve, in order, with what the window has left after each.
        for (var i = 0; i < 10; i++)
        {
            var taken = store.Store.AcquireAsync("p9", limit);
            Assert.True(taken.IsCompletedSuccessfully, $"request {i} should not wait for Redis");
            Assert.Equal(969 - i, (await taken).Remaining);
        }

        Assert.Equal([1, 29], store.BatchSizes);

        // Once ReserveFor has passed the reserve is no longer used: the next request goes to Redis, and its call gives
        // back the 48 permits nobody took (before the timer would, a millisecond later). By then the partition is no
        // longer busy, so that call reserves nothing: the window holds exactly the 41 admitted requests.
        clock.Advance(RedisSlidingWindowStore.ReserveFor + TimeSpan.FromMilliseconds(0.5));
        var late = store.Store.AcquireAsync("p9", limit);
        Assert.False(late.IsCompleted, "an expired reserve must not admit");
        Assert.Equal(959, (await late.WaitAsync(TimeSpan.FromSeconds(30))).Remaining);
        Assert.Equal(41, await database.SortedSetLengthAsync(key));
        Assert.Equal(41, (long)await database.HashGetAsync(key + ":stats", "total_successful"));
    }

    [Fact]
    public async Task APolicyWithoutReserveAhead_HasEveryRequestCountedByACall()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint, time: clock);
        var limit = new RateLimit("default", 1000, TimeSpan.FromMinutes(1), ReserveAhead: false);

        await store.WhileFrozenAsync(redis, 30, _ => store.Store.AcquireAsync("p13", limit));
        var next = store.Store.AcquireAsync("p13", limit);

        Assert.False(next.IsCompleted, "without a reserve, the next request waits for its own call");
        Assert.Equal(969, (await next.WaitAsync(TimeSpan.FromSeconds(30))).Remaining);
        await using var check = await redis.ConnectAsync();
        Assert.Equal(31, await check.GetDatabase().SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p13")));
    }

    [Fact]
    public async Task AReserveNobodyUses_IsGivenBack_WhenItExpires()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint, time: clock);
        var limit = new RateLimit("default", 1000, TimeSpan.FromMinutes(1));
        var key = RedisKeys.SlidingWindowSet("p10");

        await store.WhileFrozenAsync(redis, 30, _ => store.Store.AcquireAsync("p10", limit));
        await using var check = await redis.ConnectAsync();
        var database = check.GetDatabase();
        Assert.Equal(88, await database.SortedSetLengthAsync(key));
        Assert.Equal(1, store.Store.ActivePartitions);

        // No request comes: the timer set with the reserve gives it back, and the partition leaves no state here.
        clock.Advance(RedisSlidingWindowStore.ReserveFor + TimeSpan.FromMilliseconds(1));
        Assert.True(await Eventually.TrueAsync(async () => await database.SortedSetLengthAsync(key) == 30), "the unused reserve was not given back");
        Assert.Equal(30, (long)await database.HashGetAsync(key + ":stats", "total_successful"));
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(store.Store.ActivePartitions == 0)), "an idle partition keeps no state");
    }

    [Fact]
    public async Task UnderConcurrency_WithReservesThenWithout_ExactlyThePermitLimitIsAdmitted_EachRemainingCountOnce()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint);
        var limit = new RateLimit("default", 3000, TimeSpan.FromMinutes(5));
        var reserved = 0L;
        using var listener = ReservedPermitsListener(store, v => Interlocked.Add(ref reserved, v));

        // Sixteen clients' worth of connections sending one after the other: requests queue behind calls, so the first
        // half of the limit is served largely from reserves, the second half by calls alone.
        var outcomes = new ConcurrentBag<LimitOutcome>();
        await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 250; i++)
            {
                outcomes.Add(await store.Store.AcquireAsync("p16", limit));
            }
        })));

        // Reserves that expire half used are given back along the way (in most runs); that happens in the script before
        // the next count, so the counts reported stay exact: 2999 down to 0, each once.
        var admitted = outcomes.Where(o => o.Acquired).ToList();
        Assert.Equal(3000, admitted.Count);
        Assert.Equal(1000, outcomes.Count(o => !o.Acquired));
        Assert.Equal(Enumerable.Range(0, 3000).Select(i => (long)i), admitted.Select(o => o.Remaining).Order());
        Assert.True(Interlocked.Read(ref reserved) > 0, "no permits were reserved: the test did not exercise reserves");
        await using var check = await redis.ConnectAsync();
        Assert.Equal(3000, await check.GetDatabase().SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p16")));
    }

    [Fact]
    public async Task AStoppingNode_GivesBackTheReservesItHolds()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint, time: clock);
        var limit = new RateLimit("default", 1000, TimeSpan.FromMinutes(1));
        await store.WhileFrozenAsync(redis, 30, _ => store.Store.AcquireAsync("p14", limit));
        await store.WhileFrozenAsync(redis, 10, _ => store.Store.AcquireAsync("p15", limit));
        await using var check = await redis.ConnectAsync();
        var database = check.GetDatabase();
        Assert.Equal(88, await database.SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p14")));
        Assert.Equal(28, await database.SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p15")));

        // The clock has not moved, so the reserves are still good; the node stops (the host disposes the store).
        await store.Store.DisposeAsync();

        Assert.Equal(30, await database.SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p14")));
        Assert.Equal(10, await database.SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p15")));
    }

    [Fact]
    public async Task AReserve_NeverTakesTheWindowPastHalfItsLimit()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint, time: clock);
        var limit = new RateLimit("default", 100, TimeSpan.FromMinutes(1));
        await using var check = await redis.ConnectAsync();
        var database = check.GetDatabase();

        // 1 + 20 admitted leave room for 29 of the 42 wanted; 1 + 60 leave none.
        await store.WhileFrozenAsync(redis, 21, _ => store.Store.AcquireAsync("p11", limit));
        Assert.Equal(50, await database.SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p11")));

        await store.WhileFrozenAsync(redis, 61, _ => store.Store.AcquireAsync("p12", limit));
        Assert.Equal(61, await database.SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p12")));
        var next = store.Store.AcquireAsync("p12", limit);
        Assert.False(next.IsCompleted, "without a reserve, the next request waits for its own call");
        Assert.Equal(38, (await next.WaitAsync(TimeSpan.FromSeconds(30))).Remaining);
    }

    [Fact]
    public async Task WhenRedisStopsAnswering_TheQueuedRequestsFailWithTheCallInFlight_AndThePartitionRecovers()
    {
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint, timeoutMs: 300);
        var limit = new RateLimit("default", 100, TimeSpan.FromMinutes(1));

        await redis.FreezeAsync();
        Task<LimitOutcome>[] pending;
        try
        {
            pending = await store.IssueFirstAloneAsync(20, _ => store.Store.AcquireAsync("p5", limit));
            foreach (var task in pending)
            {
                // A guard against a hang, not a timing assertion: the client times the call out after 300 ms.
                await Assert.ThrowsAnyAsync<Exception>(() => task.WaitAsync(TimeSpan.FromSeconds(20)));
            }
        }
        finally
        {
            await redis.ThawAsync();
        }

        // Only the call in flight was ever sent; the 19 behind it failed with it instead of each waiting a timeout.
        Assert.Equal([1], store.BatchSizes);
        Assert.All(pending, t => Assert.IsNotType<TimeoutException>(t.Exception!.InnerException));

        Assert.True(await Eventually.TrueAsync(async () =>
        {
            try
            {
                return (await store.Store.AcquireAsync("p5", limit)).Acquired;
            }
            catch (RedisException)
            {
                return false;
            }
        }), "the partition answers again once Redis does");
    }

    [Fact]
    public async Task ARequestThatQueuedLongerThanTheTimeout_IsNeverSent_AndFailsWithATimeout()
    {
        // The client would wait 5 s for a reply; the store allows a request 300 ms in all, queueing included.
        await using var redis = await PrivateRedisServer.StartAsync();
        await using var store = await StoreUnderTest.StartAsync(redis.Endpoint, timeoutMs: 5000, requestTimeoutMs: 300);
        var limit = new RateLimit("default", 100, TimeSpan.FromMinutes(1));

        await redis.FreezeAsync();
        Task<LimitOutcome> first;
        Task<LimitOutcome> queued;
        try
        {
            var issued = await store.IssueFirstAloneAsync(2, _ => store.Store.AcquireAsync("p6", limit));
            first = issued[0];
            queued = issued[1];
            await Task.Delay(600);
        }
        finally
        {
            await redis.ThawAsync();
        }

        // The call in flight was sent at once, so its bound is the client's own timeout, and it succeeds late.
        Assert.True((await first.WaitAsync(TimeSpan.FromSeconds(20))).Acquired);
        await Assert.ThrowsAsync<TimeoutException>(() => queued.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.Equal([1], store.BatchSizes);
        await using var check = await redis.ConnectAsync();
        Assert.Equal(1, await check.GetDatabase().SortedSetLengthAsync(RedisKeys.SlidingWindowSet("p6")));
    }

    /// <summary>
    /// Runs posted work one item at a time on its own thread, in order. <see cref="Task.Yield"/> posts to the current
    /// context, so code that yields inside an item resumes only after that item, which makes "what runs before the
    /// continuation" certain instead of a matter of thread-pool timing.
    /// </summary>
    private sealed class SingleThreadContext : SynchronizationContext, IDisposable
    {
        private readonly BlockingCollection<(SendOrPostCallback Callback, object? State)> _work = [];

        public SingleThreadContext()
        {
            var thread = new Thread(() =>
            {
                SetSynchronizationContext(this);
                foreach (var (callback, state) in _work.GetConsumingEnumerable())
                {
                    callback(state);
                }
            })
            {
                IsBackground = true,
                Name = "test pump",
            };
            thread.Start();
        }

        public override void Post(SendOrPostCallback d, object? state) => _work.Add((d, state));

        public Task<T> RunAsync<T>(Func<T> work)
        {
            var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
            Post(_ =>
            {
                try
                {
                    done.SetResult(work());
                }
                catch (Exception ex)
                {
                    done.SetException(ex);
                }
            }, null);
            return done.Task;
        }

        public void Dispose() => _work.CompleteAdding();
    }

    /// <summary>Reports every <c>event=reserved</c> measurement of the store's reserved-permits counter.</summary>
    private static MeterListener ReservedPermitsListener(StoreUnderTest store, Action<long> reserved)
    {
        var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, store.MeterFactory) && instrument.Name == "mdv.gateway.ratelimit.reserved_permits")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag.Key == "event" && (string?)tag.Value == "reserved")
                {
                    reserved(value);
                }
            }
        });
        listener.Start();
        return listener;
    }

    /// <summary>A store with its own connection, metrics and a listener for the batch sizes it records.</summary>
    private sealed class StoreUnderTest : IAsyncDisposable
    {
        private readonly ServiceProvider _services;
        private readonly RedisConnection _connection;
        private readonly MeterListener _listener;
        private readonly ConcurrentQueue<int> _batchSizes = new();

        private StoreUnderTest(ServiceProvider services, RedisConnection connection, int requestTimeoutMs, TimeProvider time)
        {
            _services = services;
            _connection = connection;
            var meterFactory = services.GetRequiredService<IMeterFactory>();
            Store = new RedisSlidingWindowStore(connection, time, new GatewayMetrics(meterFactory), new GatewayRedisConfiguration("unused", requestTimeoutMs));
            _listener = new MeterListener
            {
                InstrumentPublished = (instrument, listener) =>
                {
                    if (ReferenceEquals(instrument.Meter.Scope, meterFactory) && instrument.Name == "mdv.gateway.redis.batch_size")
                    {
                        listener.EnableMeasurementEvents(instrument);
                    }
                },
            };
            _listener.SetMeasurementEventCallback<int>((_, value, _, _) => _batchSizes.Enqueue(value));
            _listener.Start();
        }

        public RedisSlidingWindowStore Store { get; }

        public IMeterFactory MeterFactory => _services.GetRequiredService<IMeterFactory>();

        /// <summary>The size of every call made so far, in order.</summary>
        public int[] BatchSizes => [.. _batchSizes];

        /// <param name="endpoint">The Redis server.</param>
        /// <param name="timeoutMs">The client's command timeout.</param>
        /// <param name="requestTimeoutMs">The store's bound on a request's whole wait (in production the same value).</param>
        /// <param name="time">The store's clock (the system's by default).</param>
        public static async Task<StoreUnderTest> StartAsync(string endpoint, int timeoutMs = 5000, int? requestTimeoutMs = null, TimeProvider? time = null)
        {
            var services = new ServiceCollection().AddMetrics().BuildServiceProvider();
            var connection = new RedisConnection(new GatewayRedisConfiguration(endpoint, timeoutMs), NullLogger<RedisConnection>.Instance);
            var multiplexer = await connection.GetAsync();
            Assert.True(multiplexer.IsConnected, $"could not connect to {endpoint}");
            return new StoreUnderTest(services, connection, requestTimeoutMs ?? timeoutMs, time ?? TimeProvider.System);
        }

        /// <summary>
        /// Issues the requests while the server is stopped, so the first one's call is in flight and every other one
        /// queues behind it, then lets the server answer and waits for every outcome.
        /// </summary>
        public async Task<LimitOutcome[]> WhileFrozenAsync(PrivateRedisServer redis, int count, Func<int, Task<LimitOutcome>> issue)
        {
            Task<LimitOutcome>[] pending;
            await redis.FreezeAsync();
            try
            {
                pending = await IssueFirstAloneAsync(count, issue);
            }
            finally
            {
                await redis.ThawAsync();
            }

            return await Task.WhenAll(pending).WaitAsync(TimeSpan.FromSeconds(30));
        }

        /// <summary>
        /// Issues one request and waits until its call has been made (its batch size is recorded just before), then
        /// issues the others, which therefore queue behind it. Issued together, the first call could have taken any
        /// number of them: the store gathers the requests that arrive while it yields before sending.
        /// </summary>
        public async Task<Task<LimitOutcome>[]> IssueFirstAloneAsync(int count, Func<int, Task<LimitOutcome>> issue)
        {
            var calls = _batchSizes.Count;
            var pending = new Task<LimitOutcome>[count];
            pending[0] = issue(0);
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(_batchSizes.Count > calls)), "the first request's call was never made");
            for (var i = 1; i < count; i++)
            {
                pending[i] = issue(i);
            }

            return pending;
        }

        public async ValueTask DisposeAsync()
        {
            _listener.Dispose();
            await _connection.DisposeAsync();
            await _services.DisposeAsync();
        }
    }
}
