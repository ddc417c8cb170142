namespace MdvGateway.Gateway.Diagnostics;

/// <summary>
/// At most <c>perInterval</c> log lines of one kind per interval; the rest are counted and reported as one line when
/// the interval is over. An attacker who can make the gateway log (a storm of new bans) must not be able to make the
/// log grow with the attack: the audit trail and the metrics keep every event.
/// </summary>
internal sealed class LogBudget(int perInterval, TimeSpan interval, TimeProvider time)
{
    private readonly Lock _gate = new();
    private long _intervalStart = time.GetTimestamp();
    private int _taken;
    private long _suppressed;

    /// <summary>Whether this line may be written; counts it as suppressed otherwise.</summary>
    public bool TryTake()
    {
        lock (_gate)
        {
            if (time.GetElapsedTime(_intervalStart) >= interval && _suppressed == 0)
            {
                // A new interval with nothing left to report from the last one.
                _intervalStart = time.GetTimestamp();
                _taken = 0;
            }

            if (_taken < perInterval)
            {
                _taken++;
                return true;
            }

            _suppressed++;
            return false;
        }
    }

    /// <summary>
    /// Once an interval with suppressed lines is over: how many there were (and a new interval starts); otherwise 0.
    /// Call it periodically: until it is called, an interval with suppressed lines does not end.
    /// </summary>
    public long TakeSuppressed()
    {
        lock (_gate)
        {
            if (_suppressed == 0 || time.GetElapsedTime(_intervalStart) < interval)
            {
                return 0;
            }

            var suppressed = _suppressed;
            _suppressed = 0;
            _taken = 0;
            _intervalStart = time.GetTimestamp();
            return suppressed;
        }
    }
}
