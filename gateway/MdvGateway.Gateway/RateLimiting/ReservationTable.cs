using System.Collections.Concurrent;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// The reserves this node holds: permits a call counted ahead for a busy partition, handed to its next requests here
/// without a call (see <see cref="Reservation"/>). Bounded: at most <see cref="MaxPartitions"/> partitions hold one.
/// </summary>
/// <remarks>
/// A partition is busy when several of its requests travel in one call, or when a reserve it had ran out or expired
/// within <see cref="ReserveFor"/> of being counted: the next call then asks for twice what was used, at most
/// <see cref="MaxReserve"/>, so a steady client's reserve follows its rate. Redis grants a reserve only when the whole
/// operation is admitted and the window stays at or below half its limit afterwards, so a partition near its limit is
/// counted request by request and other nodes lose at most that many permits for <see cref="ReserveFor"/>.
/// </remarks>
internal sealed class ReservationTable
{
    /// <summary>The most permits one call reserves for the requests that follow it.</summary>
    internal const int MaxReserve = 256;

    /// <summary>The most partitions holding a reserve at once; beyond it, calls reserve nothing new.</summary>
    internal const int MaxPartitions = 10_000;

    /// <summary>How long reserved permits may be handed out after the call that counted them was cut.</summary>
    internal static readonly TimeSpan ReserveFor = TimeSpan.FromMilliseconds(20);

    private readonly ConcurrentDictionary<(string Policy, string Partition), Reservation> _held = new();
    private readonly TimeProvider _time;
    private readonly long _usableTicks;

    public ReservationTable(TimeProvider time)
    {
        _time = time;
        _usableTicks = (long)(ReserveFor.TotalSeconds * time.TimestampFrequency);
    }

    public int Count => _held.Count;

    /// <summary>
    /// Admits a request from the partition's reserve if it can. Otherwise says how many permits the next call should
    /// reserve (<paramref name="wanted"/>), and hands back a reserve that can no longer serve (<paramref name="spent"/>),
    /// whose unused permits the caller gives back.
    /// </summary>
    public bool TryTake(RateLimitPolicy policy, LimitPartition partition, out LimitOutcome[]? outcomes, out int wanted, out (Reservation Reserve, int Unused) spent)
    {
        outcomes = null;
        wanted = 0;
        spent = default;
        if (_held.IsEmpty || !_held.TryGetValue((policy.Name, partition.Value), out var reserve))
        {
            return false;
        }

        var now = _time.GetTimestamp();
        if (reserve.TryTake(policy, now, _usableTicks, out outcomes))
        {
            return true;
        }

        if (policy.ReserveAhead && ReferenceEquals(policy, reserve.Policy) && now - reserve.CountedAt < 2 * _usableTicks)
        {
            wanted = Math.Min(MaxReserve, Math.Max(1, 2 * reserve.Taken));
        }

        if (_held.TryRemove(KeyValuePair.Create((policy.Name, partition.Value), reserve)))
        {
            spent = (reserve, reserve.Close());
        }

        return false;
    }

    /// <summary>Installs a reserve a call just counted; false when it cannot be held (the caller gives it back).</summary>
    public bool TryInstall(Reservation reserve, out (Reservation Reserve, int Unused) replaced)
    {
        replaced = default;
        var key = (reserve.Policy.Name, reserve.Partition.Value);
        if (_held.Count >= MaxPartitions && !_held.ContainsKey(key))
        {
            return false;
        }

        Reservation? previous = null;
        _held.AddOrUpdate(key, reserve, (_, old) =>
        {
            previous = old;
            return reserve;
        });
        if (previous is not null)
        {
            replaced = (previous, previous.Close());
        }

        return true;
    }

    /// <summary>Removes the reserves that can no longer serve; returns them with their unused permits.</summary>
    public List<(Reservation Reserve, int Unused)> TakeExpired(bool all = false)
    {
        var now = _time.GetTimestamp();
        var expired = new List<(Reservation, int)>();
        foreach (var entry in _held)
        {
            if ((all || now - entry.Value.CountedAt >= _usableTicks) && _held.TryRemove(entry))
            {
                expired.Add((entry.Value, entry.Value.Close()));
            }
        }

        return expired;
    }
}
