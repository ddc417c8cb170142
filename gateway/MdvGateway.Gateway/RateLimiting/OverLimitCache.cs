using System.Collections.Concurrent;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Partitions known to be over their limit, and until when. A sliding window that rejected a request cannot admit
/// another before its oldest entry leaves (rejections add nothing to it), so until then every node may reject the
/// partition locally, exactly as Redis would, without a round trip. This is what keeps a flood cheap.
/// </summary>
internal sealed class OverLimitCache
{
    /// <summary>Bounds memory under a flood from very many addresses; beyond it, lookups go to Redis as usual.</summary>
    internal const int MaxEntries = 100_000;

    private readonly ConcurrentDictionary<string, long> _blockedUntil = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public OverLimitCache(TimeProvider time) => _time = time;

    public int Count => _blockedUntil.Count;

    public bool TryGetRetryAfter(string partition, out TimeSpan retryAfter)
    {
        if (_blockedUntil.TryGetValue(partition, out var until))
        {
            var remainingMs = until - _time.GetUtcNow().ToUnixTimeMilliseconds();
            if (remainingMs > 0)
            {
                retryAfter = TimeSpan.FromMilliseconds(remainingMs);
                return true;
            }

            _blockedUntil.TryRemove(KeyValuePair.Create(partition, until));
        }

        retryAfter = TimeSpan.Zero;
        return false;
    }

    public void Add(string partition, TimeSpan retryAfter)
    {
        if (_blockedUntil.Count >= MaxEntries)
        {
            Sweep();
            if (_blockedUntil.Count >= MaxEntries)
            {
                return;
            }
        }

        _blockedUntil[partition] = _time.GetUtcNow().ToUnixTimeMilliseconds() + (long)retryAfter.TotalMilliseconds;
    }

    /// <summary>Forgets everything, e.g. after a reload changed the limits the entries were computed from.</summary>
    public void Clear() => _blockedUntil.Clear();

    private void Sweep()
    {
        var now = _time.GetUtcNow().ToUnixTimeMilliseconds();
        foreach (var entry in _blockedUntil)
        {
            if (entry.Value <= now)
            {
                _blockedUntil.TryRemove(entry);
            }
        }
    }
}
