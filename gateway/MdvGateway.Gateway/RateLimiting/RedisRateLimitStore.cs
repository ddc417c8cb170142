using MdvGateway.Gateway.Diagnostics;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// The engine's thin front: a request is admitted from its partition's reserve when this node holds one (no call, no
/// suspension), and otherwise queued for the next batch call (see <see cref="RedisDecisionBatcher"/>). Reserves that
/// expire unused are given back by a sweep every <see cref="ReservationTable.ReserveFor"/>, and all of them when the
/// node stops.
/// </summary>
internal sealed class RedisRateLimitStore : IRateLimitStore, IAsyncDisposable
{
    private readonly RedisDecisionBatcher _batcher;
    private readonly ReservationTable _reserves;
    private readonly GatewayMetrics _metrics;
    private readonly TimeProvider _time;
    private readonly ITimer _sweep;
    private readonly Action<DecisionRequest, Reservation> _install;
    private readonly Action<int> _returned;

    public RedisRateLimitStore(RedisDecisionBatcher batcher, GatewayMetrics metrics, TimeProvider time)
    {
        _batcher = batcher;
        _metrics = metrics;
        _time = time;
        _reserves = new ReservationTable(time);
        _install = Install;
        _returned = returned => _metrics.ReservedPermits(0, returned);
        _batcher.ServeLocally = ServeFromReserve;
        _sweep = time.CreateTimer(static state => ((RedisRateLimitStore)state!).GiveBackExpired(), this, ReservationTable.ReserveFor, ReservationTable.ReserveFor);
    }

    /// <summary>Partitions holding a reserve on this node (zero when idle: nothing else is kept per client).</summary>
    internal int ReservedPartitions => _reserves.Count;

    public ValueTask<StoreAnswer> DecideAsync(RateLimitPolicy policy, LimitPartition partition, string? strikeClient)
    {
        if (_reserves.TryTake(policy, partition, out var outcomes, out var wanted, out var spent))
        {
            return ValueTask.FromResult(new StoreAnswer(StoreStatus.Ok, outcomes!, false, null));
        }

        var now = _time.GetTimestamp();
        if (spent.Unused > 0)
        {
            _batcher.Enqueue(new GiveBackOperation(spent.Reserve, spent.Unused, now, _returned));
        }

        var request = new DecisionRequest(policy, partition, strikeClient, now)
        {
            ReserveWanted = wanted,
            ReservationSink = policy.ReserveAhead ? _install : null,
        };
        _batcher.Enqueue(request);
        return new ValueTask<StoreAnswer>(request.Answer);
    }

    /// <summary>Gives back every reserve this node holds, as the node stops. Best effort, within one call.</summary>
    public async ValueTask DisposeAsync()
    {
        await _sweep.DisposeAsync();
        var returned = new List<Task>();
        foreach (var (reserve, unused) in _reserves.TakeExpired(all: true))
        {
            if (unused > 0)
            {
                var done = new TaskCompletionSource();
                _batcher.Enqueue(new GiveBackOperation(reserve, unused, _time.GetTimestamp(), n =>
                {
                    _metrics.ReservedPermits(0, n);
                    done.TrySetResult();
                }));
                returned.Add(done.Task);
            }
        }

        try
        {
            await Task.WhenAll(returned).WaitAsync(TimeSpan.FromSeconds(1));
        }
        catch (TimeoutException)
        {
            // Redis is slow or away: the permits stay counted until they leave the window (fewer admitted, never more).
        }
    }

    private bool ServeFromReserve(DecisionRequest request, out BatchOperation? first)
    {
        first = null;
        if (!_reserves.TryTake(request.Policy, request.Partition, out var outcomes, out var wanted, out var spent))
        {
            if (spent.Unused > 0)
            {
                // In the same call, ahead of the request: it is counted with the unused permits already given back.
                first = new GiveBackOperation(spent.Reserve, spent.Unused, _time.GetTimestamp(), _returned);
            }

            request.ReserveWanted = Math.Max(request.ReserveWanted, wanted);
            return false;
        }

        request.Complete(new StoreAnswer(StoreStatus.Ok, outcomes!, false, null));
        return true;
    }

    private void Install(DecisionRequest request, Reservation reserve)
    {
        _metrics.ReservedPermits(reserve.Count, 0);
        if (!_reserves.TryInstall(reserve, out var replaced))
        {
            _batcher.Enqueue(new GiveBackOperation(reserve, reserve.Close(), _time.GetTimestamp(), _returned));
            return;
        }

        if (replaced.Unused > 0)
        {
            _batcher.Enqueue(new GiveBackOperation(replaced.Reserve, replaced.Unused, _time.GetTimestamp(), _returned));
        }
    }

    private void GiveBackExpired()
    {
        if (_reserves.Count == 0)
        {
            return;
        }

        foreach (var (reserve, unused) in _reserves.TakeExpired())
        {
            if (unused > 0)
            {
                _batcher.Enqueue(new GiveBackOperation(reserve, unused, _time.GetTimestamp(), _returned));
            }
        }
    }
}
