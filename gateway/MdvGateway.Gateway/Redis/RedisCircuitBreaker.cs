namespace MdvGateway.Gateway.Redis;

/// <summary>
/// Stops the request path from paying Redis timeouts over and over: after <c>BreakAfterFailures</c> consecutive
/// failures the circuit opens for <c>BreakDuration</c>; then one request at a time probes Redis until one succeeds.
/// </summary>
internal sealed class RedisCircuitBreaker
{
    private readonly TimeProvider _time;
    private readonly Func<RedisOptions> _options;
    private readonly Lock _lock = new();
    private int _consecutiveFailures;
    private long _openUntilTicks;
    private bool _probeInFlight;
    private int _state = (int)CircuitState.Closed;

    public RedisCircuitBreaker(TimeProvider time, Func<RedisOptions> options)
    {
        _time = time;
        _options = options;
    }

    /// <summary>Raised when the state changes, outside the lock.</summary>
    public event Action<CircuitState>? StateChanged;

    public CircuitState State
    {
        get
        {
            var state = (CircuitState)Volatile.Read(ref _state);
            return state == CircuitState.Open && NowTicks() >= Volatile.Read(ref _openUntilTicks) ? CircuitState.HalfOpen : state;
        }
    }

    /// <summary>Whether this request may call Redis.</summary>
    public bool TryEnter()
    {
        if (Volatile.Read(ref _state) == (int)CircuitState.Closed)
        {
            return true;
        }

        lock (_lock)
        {
            if (_state == (int)CircuitState.Closed)
            {
                return true;
            }

            if (_probeInFlight || NowTicks() < _openUntilTicks)
            {
                return false;
            }

            _probeInFlight = true;
            return true;
        }
    }

    public void RecordSuccess()
    {
        if (Volatile.Read(ref _state) == (int)CircuitState.Closed && Volatile.Read(ref _consecutiveFailures) == 0)
        {
            return;
        }

        bool changed;
        lock (_lock)
        {
            changed = _state != (int)CircuitState.Closed;
            _state = (int)CircuitState.Closed;
            _consecutiveFailures = 0;
            _probeInFlight = false;
        }

        if (changed)
        {
            StateChanged?.Invoke(CircuitState.Closed);
        }
    }

    /// <summary>
    /// A request that entered never reached Redis (it expired in the queue): neither a success nor a failure, but a
    /// half-open circuit must not wait for its answer forever.
    /// </summary>
    public void ReleaseProbe()
    {
        lock (_lock)
        {
            _probeInFlight = false;
        }
    }

    public void RecordFailure()
    {
        var options = _options();
        var opened = false;
        lock (_lock)
        {
            _probeInFlight = false;
            _consecutiveFailures++;

            // A failed probe re-opens at once; a closed circuit opens after enough failures in a row.
            if (_state != (int)CircuitState.Closed || _consecutiveFailures >= options.BreakAfterFailures)
            {
                _openUntilTicks = NowTicks() + options.BreakDuration.Ticks;
                opened = _state == (int)CircuitState.Closed;
                _state = (int)CircuitState.Open;
            }
        }

        if (opened)
        {
            StateChanged?.Invoke(CircuitState.Open);
        }
    }

    private long NowTicks() => _time.GetUtcNow().UtcTicks;
}

internal enum CircuitState
{
    Closed = 0,
    Open = 1,
    HalfOpen = 2,
}
