using System.Collections.Concurrent;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// What one node keeps in memory about failed admin authentications, per client address: the lockouts it knows of
/// (learnt from the shared count in Redis, so a locked-out address costs no Redis call per attempt), and, while Redis
/// cannot be reached, the node's own count of failures (a window that starts at the first failure; after
/// <c>limit</c> failures the address is locked out until the window ends).
/// </summary>
/// <remarks>
/// At most <see cref="MaxTrackedClients"/> addresses are held. Past that, a new address evicts the address that
/// entered the table first: memory stays bounded however many addresses fail, and no address ever shares an entry
/// with another, so a spray from many addresses cannot lock out anyone who did not fail. What eviction forgets is an
/// optimisation while Redis answers (the lockout is still there), and while Redis is away it gives the evicted address
/// a fresh count, as if it were new: a spray of N addresses gets about N times the limit, as it would anyway.
/// </remarks>
internal sealed class LocalFailureTable
{
    /// <summary>Addresses held at most (about 150 bytes each).</summary>
    internal const int MaxTrackedClients = 10_000;

    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);

    /// <summary>Entries in the order they were added: each entry once, removed only from the front.</summary>
    private readonly ConcurrentQueue<KeyValuePair<string, Entry>> _order = new();

    private readonly TimeProvider _time;
    private readonly int _capacity;
    private int _count;

    public LocalFailureTable(TimeProvider time, int capacity = MaxTrackedClients)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        _time = time;
        _capacity = capacity;
    }

    internal int TrackedClients => Volatile.Read(ref _count);

    /// <summary>How long this node knows <paramref name="client"/> to be locked out, or null.</summary>
    public TimeSpan? LockedOutFor(string client)
    {
        if (!_entries.TryGetValue(client, out var entry))
        {
            return null;
        }

        var now = _time.GetUtcNow();
        lock (entry)
        {
            return entry.LockedUntil > now ? entry.LockedUntil - now : null;
        }
    }

    /// <summary>Remembers a lockout found in the shared count, for as long as it lasts.</summary>
    public void RememberLockout(string client, TimeSpan lockedFor)
    {
        var until = _time.GetUtcNow() + lockedFor;
        var entry = GetOrAdd(client);
        lock (entry)
        {
            if (until > entry.LockedUntil)
            {
                entry.LockedUntil = until;
            }
        }
    }

    /// <summary>
    /// Counts one failure on this node alone (Redis away); returns how long the client is now locked out, or null if
    /// it is not.
    /// </summary>
    public TimeSpan? RecordFailure(string client, int limit, TimeSpan window)
    {
        var now = _time.GetUtcNow();
        var entry = GetOrAdd(client);
        lock (entry)
        {
            if (entry.WindowEnd <= now)
            {
                entry.WindowEnd = now + window;
                entry.Failures = 0;
            }

            entry.Failures++;
            if (entry.Failures < limit)
            {
                return null;
            }

            if (entry.WindowEnd > entry.LockedUntil)
            {
                entry.LockedUntil = entry.WindowEnd;
            }

            return entry.LockedUntil - now;
        }
    }

    private Entry GetOrAdd(string client)
    {
        if (_entries.TryGetValue(client, out var entry))
        {
            return entry;
        }

        var created = new Entry();
        entry = _entries.GetOrAdd(client, created);
        if (ReferenceEquals(entry, created))
        {
            _order.Enqueue(new KeyValuePair<string, Entry>(client, created));
            if (Interlocked.Increment(ref _count) > _capacity)
            {
                EvictOldest();
            }
        }

        return entry;
    }

    private void EvictOldest()
    {
        // Every entry in the table is in the queue exactly once and leaves the table only here, so the first pair
        // dequeued is still in the table (a racing adder may have dequeued the one before it).
        while (_order.TryDequeue(out var oldest))
        {
            if (_entries.TryRemove(oldest))
            {
                Interlocked.Decrement(ref _count);
                return;
            }
        }
    }

    private sealed class Entry
    {
        public DateTimeOffset WindowEnd { get; set; }

        public int Failures { get; set; }

        public DateTimeOffset LockedUntil { get; set; }
    }
}
