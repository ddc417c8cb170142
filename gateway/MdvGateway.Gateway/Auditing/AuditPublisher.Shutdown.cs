using MdvGateway.Contracts;

namespace MdvGateway.Gateway.Auditing;

/// <summary>Graceful shutdown: nothing queued or counted is lost, whatever the broker does.</summary>
internal sealed partial class AuditPublisher
{
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Stop both loops first (an in-flight batch is confirmed or spooled), then finish the work single-handed.
        await base.StopAsync(cancellationToken);

        _sink.FlushAggregates();
        _queue.Complete();
        var remaining = new List<AuditEventRecorded>();
        while (_queue.Reader.TryRead(out var auditEvent))
        {
            remaining.Add(auditEvent);
        }

        // One PublishTimeout for all of it, then whatever is left goes to the spool.
        using var deadline = new CancellationTokenSource(_options.PublishTimeout, _time);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, deadline.Token);
        for (var offset = 0; offset < remaining.Count; offset += BatchSize)
        {
            var chunk = remaining.GetRange(offset, Math.Min(BatchSize, remaining.Count - offset));
            var unpublished = MayPublish && !budget.IsCancellationRequested
                ? await PublishAsync(chunk, "queue", budget.Token)
                : chunk;
            _spool.Append(unpublished, "shutdown");
        }

        Log.Stopped(_logger, remaining.Count, _spool.Bytes);
        using var stopDeadline = new CancellationTokenSource(_options.PublishTimeout, _time);
        using var stopBudget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, stopDeadline.Token);
        await _transport.StopAsync(stopBudget.Token);
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
