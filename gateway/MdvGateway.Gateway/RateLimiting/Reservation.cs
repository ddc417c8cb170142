namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Permits one call counted in Redis ahead of the requests that asked, in the sub-window that holds Redis's time plus
/// <see cref="ReservationTable.ReserveFor"/>, which this node hands to the partition's next requests without a call of
/// its own until they run out or <see cref="ReservationTable.ReserveFor"/> has passed. Guarded by its own lock.
/// </summary>
/// <remarks>
/// Each reserved permit sits in a sub-window no earlier than any request that can take it, so it stays counted at least
/// a whole window after that request: the partition never admits more than its limit. What is not taken is given back;
/// until then the partition may admit that many fewer.
/// </remarks>
internal sealed class Reservation(RateLimitPolicy policy, LimitPartition partition, int count, long[] fields, long[] remainingBefore, long countedAt)
{
    private int _taken;

    public RateLimitPolicy Policy { get; } = policy;

    public LimitPartition Partition { get; } = partition;

    public int Count { get; } = count;

    /// <summary>Per limit, the sub-window the permits were counted in.</summary>
    public long[] Fields { get; } = fields;

    /// <summary>When the call that counted them was cut (the store's timestamp): usable for ReserveFor from then.</summary>
    public long CountedAt { get; } = countedAt;

    public int Taken
    {
        get
        {
            lock (this)
            {
                return _taken;
            }
        }
    }

    /// <summary>Takes one permit, reporting what each limit has left as a call of its own would have at the time.</summary>
    public bool TryTake(RateLimitPolicy policy, long now, long usableTicks, out LimitOutcome[]? outcomes)
    {
        outcomes = null;
        int position;
        lock (this)
        {
            if (_taken >= Count || now - CountedAt >= usableTicks || !ReferenceEquals(policy, Policy))
            {
                return false;
            }

            position = _taken++;
        }

        var limits = Policy.Limits;
        outcomes = new LimitOutcome[limits.Length];
        for (var l = 0; l < limits.Length; l++)
        {
            outcomes[l] = LimitOutcome.Admitted(limits[l], Math.Max(0, remainingBefore[l] - position - 1));
        }

        return true;
    }

    /// <summary>Ends the reservation: what was not taken until now never will be. Returns that number.</summary>
    public int Close()
    {
        lock (this)
        {
            var unused = Count - _taken;
            _taken = Count;
            return unused;
        }
    }
}
