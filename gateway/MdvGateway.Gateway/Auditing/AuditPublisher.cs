using MdvGateway.Contracts;
using MdvGateway.Gateway.Diagnostics;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// Moves audit events from the in-memory queue to the broker, in the background: flushes the aggregates every
/// <see cref="AuditOptions.AggregationInterval"/>, packs the events into messages of up to
/// <see cref="AuditOptions.MaxEventsPerMessage"/> (waiting at most <see cref="FillTime"/> for a message to fill),
/// publishes up to <see cref="MessagesPerRound"/> messages at once, each confirmed within
/// <see cref="AuditOptions.PublishTimeout"/>, spools the events of every message that fails and, while the broker is
/// away, everything, retrying with back-off; replays the spool, in the same messages, once publishing works again. At
/// shutdown it flushes the aggregates and publishes what is queued within one <see cref="AuditOptions.PublishTimeout"/>,
/// spooling the rest, so a restart loses nothing.
/// </summary>
/// <remarks>
/// Every event taken from the queue or the spool ends up confirmed by the broker or written (back) to the spool, event
/// by event: the spool knows nothing of messages. A publish that timed out may still reach the broker, so an event can
/// arrive twice, even in two different messages; the consumer stores each <see cref="AuditEventRecorded.EventId"/> once.
/// </remarks>
internal sealed partial class AuditPublisher : BackgroundService, IAuditBrokerStatus
{
    /// <summary>Messages published concurrently in one round, each with its own confirmation.</summary>
    internal const int MessagesPerRound = 100;

    /// <summary>
    /// Longest the publisher waits for a message to fill once events are queued (never with
    /// <see cref="AuditOptions.MaxEventsPerMessage"/> 1): a trickle of discrete events (bans, admin writes) then
    /// travels a few to a message instead of one to a message, for at most this much more delay.
    /// </summary>
    internal static readonly TimeSpan FillTime = TimeSpan.FromMilliseconds(50);

    /// <summary>How often the queue is looked at while a message fills.</summary>
    private static readonly TimeSpan FillPollInterval = TimeSpan.FromMilliseconds(10);

    internal static readonly TimeSpan FirstRetryDelay = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan LongestRetryDelay = TimeSpan.FromSeconds(15);

    private readonly AuditSink _sink;
    private readonly AuditQueue _queue;
    private readonly AuditSpool _spool;
    private readonly IAuditTransport _transport;
    private readonly AuditOptions _options;
    private readonly TimeProvider _time;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<AuditPublisher> _logger;
    private readonly List<AuditEventRecorded> _batch = [];
    private bool _topologyDeclared;
    private bool _brokerAway;

    // What readiness and the broker gauge read, from other threads; only the publisher's loops write them.
    private volatile AuditBrokerState _state;
    private long _unreachableSinceTicks;
    private DateTimeOffset _retryAt = DateTimeOffset.MinValue;
    private TimeSpan _retryDelay = FirstRetryDelay;
    private DateTimeOffset _replayAfter = DateTimeOffset.MinValue;

    public AuditPublisher(
        AuditSink sink,
        AuditQueue queue,
        AuditSpool spool,
        IAuditTransport transport,
        AuditOptions options,
        TimeProvider time,
        GatewayMetrics metrics,
        ILogger<AuditPublisher> logger)
    {
        _sink = sink;
        _queue = queue;
        _spool = spool;
        _transport = transport;
        _options = options;
        _time = time;
        _metrics = metrics;
        _logger = logger;
        metrics.ObserveAuditBroker(() => _state == AuditBrokerState.Reachable);
    }

    public AuditBrokerState State => _state;

    public DateTimeOffset? UnreachableSince
        => Volatile.Read(ref _unreachableSinceTicks) is > 0 and var ticks ? new DateTimeOffset(ticks, TimeSpan.Zero) : null;

    public long SpoolBytes => _spool.Bytes;

    /// <summary>Events taken from the queue, the spool or the shutdown's remainder for one round of publishes.</summary>
    private int RoundEvents => MessagesPerRound * _options.MaxEventsPerMessage;

    /// <summary>Whether the broker is believed reachable (or it is time to try it again).</summary>
    private bool MayPublish => !_brokerAway || _time.GetUtcNow() >= _retryAt;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Off the start-up path: nothing here may hold up the host's start, whatever the broker does.
        await Task.Yield();
        _transport.Start();
        await Task.WhenAll(FlushLoopAsync(stoppingToken), PublishLoopAsync(stoppingToken));
    }

    private async Task FlushLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.AggregationInterval, _time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                _sink.FlushAggregates();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task PublishLoopAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await PublishOnceAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // Never let the loop die: the audit trail would silently stop.
                Log.LoopFailed(_logger, ex.GetType().Name, ex.Message);
                try
                {
                    await Task.Delay(FirstRetryDelay, _time, stoppingToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    private async Task PublishOnceAsync(CancellationToken stoppingToken)
    {
        // Declared at start, before anything is published, so that events wait in the queue even if no consumer ever
        // ran; until it succeeds every event goes to the spool.
        if (!_topologyDeclared && MayPublish)
        {
            await TryDeclareTopologyAsync(CancellationToken.None);
        }

        if (_queue.Count > 0 && MayPublish)
        {
            await WaitToFillAsync(stoppingToken);
        }

        _batch.Clear();
        while (_batch.Count < RoundEvents && _queue.Reader.TryRead(out var auditEvent))
        {
            _batch.Add(auditEvent);
        }

        if (_batch.Count > 0)
        {
            if (!MayPublish)
            {
                _spool.Append(_batch, "broker_unavailable");
                return;
            }

            // Not cancelled by shutdown: a batch in flight gets its full PublishTimeout, then is confirmed or spooled.
            var unpublished = await PublishAsync(_batch, "queue", CancellationToken.None);
            _spool.Append(unpublished, "broker_unavailable");
            return;
        }

        if (MayPublish && _spool.HasPending && _time.GetUtcNow() >= _replayAfter)
        {
            await ReplayOneSegmentAsync(stoppingToken);
            return;
        }

        // Idle: wake for new events, or when the broker is due another try and there is something to try it with.
        using var wake = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
        var waits = new List<Task> { _queue.Reader.WaitToReadAsync(wake.Token).AsTask() };
        if ((_brokerAway && (_spool.HasPending || !_topologyDeclared)) || (_spool.HasPending && _replayAfter > _time.GetUtcNow()))
        {
            var wakeAt = _brokerAway ? Max(_retryAt, _replayAfter) : _replayAfter;
            waits.Add(Task.Delay(Max(wakeAt - _time.GetUtcNow(), TimeSpan.Zero), _time, wake.Token));
        }

        try
        {
            await Task.WhenAny(waits);
            stoppingToken.ThrowIfCancellationRequested();
        }
        finally
        {
            await wake.CancelAsync();
        }
    }

    private async Task ReplayOneSegmentAsync(CancellationToken stoppingToken)
    {
        var segment = _spool.TakeOldest();
        if (segment is null)
        {
            return;
        }

        List<AuditEventRecorded> events;
        int unreadable;
        try
        {
            events = _spool.Read(segment, out unreadable);
        }
        catch (FileNotFoundException ex)
        {
            // Removed by hand: nothing left to replay from it.
            Log.ReplayReadFailed(_logger, segment.Path, ex.Message);
            _spool.Complete(segment, []);
            return;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            Log.ReplayReadFailed(_logger, segment.Path, ex.Message);
            _replayAfter = _time.GetUtcNow() + LongestRetryDelay;
            return;
        }

        var unpublished = new List<AuditEventRecorded>();
        for (var offset = 0; offset < events.Count; offset += RoundEvents)
        {
            var chunk = events.GetRange(offset, Math.Min(RoundEvents, events.Count - offset));
            if (unpublished.Count > 0 || stoppingToken.IsCancellationRequested)
            {
                unpublished.AddRange(chunk);
                continue;
            }

            unpublished.AddRange(await PublishAsync(chunk, "spool", CancellationToken.None));
        }

        if (unreadable == 0 && events.Count > 0 && unpublished.Count == events.Count)
        {
            // Nothing got through: leave the file as it is for the next attempt rather than rewriting it.
            return;
        }

        _spool.Complete(segment, unpublished);
        if (unpublished.Count == 0)
        {
            Log.Replayed(_logger, events.Count, segment.Path);
        }
    }

    /// <summary>
    /// Waits until a whole message's worth of events is queued, or <see cref="FillTime"/> has passed. The events stay
    /// in the queue meanwhile, so a shutdown that cancels the wait finds them there.
    /// </summary>
    private async Task WaitToFillAsync(CancellationToken stoppingToken)
    {
        if (_options.MaxEventsPerMessage == 1)
        {
            return;
        }

        var started = _time.GetTimestamp();
        while (_queue.Count < _options.MaxEventsPerMessage)
        {
            var left = FillTime - _time.GetElapsedTime(started);
            if (left <= TimeSpan.Zero)
            {
                return;
            }

            await Task.Delay(left < FillPollInterval ? left : FillPollInterval, _time, stoppingToken);
        }
    }

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;

    private static DateTimeOffset Max(DateTimeOffset a, DateTimeOffset b) => a > b ? a : b;

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;
}
