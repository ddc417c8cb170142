using System.Collections.Concurrent;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Counts failed admin authentications per client address in memory (each node on its own: the admin listener is
/// reached directly, not through the load balancer). After <c>limit</c> failures inside a window that starts at
/// the first one, the address is locked out until the window ends: its requests are refused before any key is
/// checked, so guessing cannot go faster than <c>limit</c> keys per window. Successful requests are never counted.
/// </summary>
internal sealed class FailedAuthenticationLimiter
{
    /// <summary>Addresses tracked at most; beyond that, new addresses share one bucket (a spray cannot grow memory).</summary>
    internal const int MaxTrackedClients = 10_000;

    internal const string OverflowKey = "*";

    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);
    private readonly TimeProvider _time;

    public FailedAuthenticationLimiter(TimeProvider time) => _time = time;

    internal int TrackedClients => _windows.Count;

    /// <summary>How long <paramref name="client"/> remains locked out, or null when it may try.</summary>
    public TimeSpan? LockedOutFor(string client, int limit, TimeSpan window)
    {
        var now = _time.GetUtcNow();
        if (!_windows.TryGetValue(client, out var entry) && !_windows.TryGetValue(OverflowKey, out entry))
        {
            return null;
        }

        lock (entry)
        {
            var end = entry.Start + window;
            return entry.Failures >= limit && end > now ? end - now : null;
        }
    }

    /// <summary>Counts one failure; returns how long the client is now locked out, or null if it is not.</summary>
    public TimeSpan? RecordFailure(string client, int limit, TimeSpan window)
    {
        var now = _time.GetUtcNow();
        if (!_windows.ContainsKey(client) && _windows.Count >= MaxTrackedClients)
        {
            Prune(now, window);
            if (_windows.Count >= MaxTrackedClients)
            {
                client = OverflowKey;
            }
        }

        var entry = _windows.GetOrAdd(client, static (_, start) => new Window { Start = start }, now);
        lock (entry)
        {
            if (entry.Start + window <= now)
            {
                entry.Start = now;
                entry.Failures = 0;
            }

            entry.Failures++;
            var end = entry.Start + window;
            return entry.Failures >= limit ? end - now : null;
        }
    }

    private void Prune(DateTimeOffset now, TimeSpan window)
    {
        foreach (var (key, entry) in _windows)
        {
            bool expired;
            lock (entry)
            {
                expired = entry.Start + window <= now;
            }

            if (expired)
            {
                _windows.TryRemove(key, out _);
            }
        }
    }

    private sealed class Window
    {
        public DateTimeOffset Start { get; set; }

        public int Failures { get; set; }
    }
}
