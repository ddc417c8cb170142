using MdvGateway.Contracts;

namespace MdvGateway.Gateway.Auditing;

/// <summary>Graceful shutdown: nothing queued or counted is lost, whatever the broker does.</summary>
/// <remarks>
/// <para>
/// Order. The web server is the host's last-registered hosted service, so it stops first: the listener closes and
/// in-flight requests drain (each 429 or 403 is counted before its response is written). Only then does this
/// publisher stop, so the final flush below sees every count of every request a client got an answer to. Anything
/// counted later still (an admin write racing the stop) is spooled by <see cref="Dispose"/>.
/// </para>
/// <para>
/// Budget. The host's <c>ShutdownTimeout</c> (<c>DOTNET_SHUTDOWNTIMEOUTSECONDS</c>) belongs to the drain: a slow
/// upstream call may use all of it, and the token handed to <see cref="StopAsync"/> is then already cancelled.
/// Flushing within what is left of it would send every count still in memory to the spool instead of the broker,
/// and a spool on a pod's <c>emptyDir</c> is deleted with the pod. So the flush ignores the host's token and has a
/// budget of its own: one <see cref="AuditOptions.PublishTimeout"/> until every event is confirmed or spooled, and
/// one more to close the bus. The host waits for it. With the broker healthy this takes milliseconds; at worst
/// shutdown lasts <c>ShutdownTimeout + 2 × PublishTimeout</c>, which the grace period must cover.
/// </para>
/// </remarks>
internal sealed partial class AuditPublisher
{
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        using var deadline = new CancellationTokenSource(_options.PublishTimeout, _time);

        // Stop both loops first (a batch in flight is confirmed or spooled within its own PublishTimeout; this waits
        // for it at most until the deadline), then finish the work single-handed.
        await base.StopAsync(deadline.Token);

        _sink.FlushAggregates();
        _queue.Complete();
        var remaining = new List<AuditEventRecorded>();
        while (_queue.Reader.TryRead(out var auditEvent))
        {
            remaining.Add(auditEvent);
        }

        // What is left of the same PublishTimeout for all of it, then whatever is left goes to the spool.
        for (var offset = 0; offset < remaining.Count; offset += RoundEvents)
        {
            var chunk = remaining.GetRange(offset, Math.Min(RoundEvents, remaining.Count - offset));
            var unpublished = MayPublish && !deadline.IsCancellationRequested
                ? await PublishAsync(chunk, "queue", deadline.Token)
                : chunk;
            _spool.Append(unpublished, "shutdown");
        }

        Log.Stopped(_logger, remaining.Count, _spool.Bytes);
        using var stopDeadline = new CancellationTokenSource(_options.PublishTimeout, _time);
        await _transport.StopAsync(stopDeadline.Token);
    }

    public override void Dispose()
    {
        // Anything counted or queued after StopAsync (a request still draining, an admin write) goes to the spool.
        _sink.FlushAggregates();
        _queue.Complete();
        var late = new List<AuditEventRecorded>();
        while (_queue.Reader.TryRead(out var auditEvent))
        {
            late.Add(auditEvent);
        }

        _spool.Append(late, "shutdown");
        base.Dispose();
    }
}
