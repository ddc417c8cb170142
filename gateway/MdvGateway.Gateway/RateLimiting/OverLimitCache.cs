using System.Collections.Concurrent;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Partitions known to be over a limit of a policy, and until when. A window that refused a request cannot admit
/// another before its oldest counted sub-window leaves (refusals add nothing to it), so until then this node refuses
/// the partition locally, as Redis would, without a round trip; the refusals' strikes are counted locally and flushed
/// in batches (see <c>StrikeRecorder</c>). This is what keeps a flood cheap.
/// </summary>
internal sealed class OverLimitCache
{
    /// <summary>Bounds memory under a flood from very many addresses; beyond it, lookups go to Redis as usual.</summary>
    internal const int MaxEntries = 100_000;

    /// <summary>
    /// A full cache is swept for expired entries at most this often: a sweep walks every entry, and a flood that keeps
    /// the cache full of live ones must not make each refusal walk 100,000 entries.
    /// </summary>
    internal static readonly TimeSpan SweepEvery = TimeSpan.FromSeconds(1);

    private long _lastSweepMs;

    private readonly ConcurrentDictionary<(string Policy, string Partition), (long Until, int Limit)> _blockedUntil = new();
    private readonly TimeProvider _time;

    public OverLimitCache(TimeProvider time) => _time = time;

    public int Count => _blockedUntil.Count;

    /// <param name="policy">The policy's name.</param>
    /// <param name="partition">The partition value.</param>
    /// <param name="retryAfter">How long the partition stays refused.</param>
    /// <param name="limit">The position in the policy of the limit that refused it.</param>
    public bool TryGetRetryAfter(string policy, string partition, out TimeSpan retryAfter, out int limit)
    {
        limit = 0;
        if (!_blockedUntil.IsEmpty && _blockedUntil.TryGetValue((policy, partition), out var until))
        {
            var remainingMs = until.Until - _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (remainingMs > 0)
            {
                retryAfter = TimeSpan.FromMilliseconds(remainingMs);
                limit = until.Limit;
                return true;
            }

            _blockedUntil.TryRemove(KeyValuePair.Create((policy, partition), until));
        }

        retryAfter = TimeSpan.Zero;
        return false;
    }

    public void Add(string policy, string partition, TimeSpan retryAfter, int limit = 0)
    {
        if (_blockedUntil.Count >= MaxEntries)
        {
            var nowMs = _time.GetUtcNow().ToUnixTimeMilliseconds();
            var last = Interlocked.Read(ref _lastSweepMs);
            if (nowMs - last >= (long)SweepEvery.TotalMilliseconds && Interlocked.CompareExchange(ref _lastSweepMs, nowMs, last) == last)
            {
                Sweep();
            }

            if (_blockedUntil.Count >= MaxEntries)
            {
                return;
            }
        }

        _blockedUntil[(policy, partition)] = (_time.GetUtcNow().ToUnixTimeMilliseconds() + (long)retryAfter.TotalMilliseconds, limit);
    }

    /// <summary>Forgets everything, e.g. after a reload changed the limits the entries were computed from.</summary>
    public void Clear() => _blockedUntil.Clear();

    private void Sweep()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var entry in _blockedUntil)
        {
            if (entry.Value.Until <= now)
            {
                _blockedUntil.TryRemove(entry);
            }
        }
    }
}
