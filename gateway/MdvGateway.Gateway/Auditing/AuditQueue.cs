using System.Threading.Channels;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Diagnostics;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// The bounded in-memory queue between whoever records events and the publisher. Writing never waits: what does not
/// fit, or arrives after the publisher has stopped reading, goes straight to the disk spool.
/// </summary>
internal sealed class AuditQueue
{
    private readonly Channel<AuditEventRecorded> _channel;
    private readonly AuditSpool _spool;
    private readonly GatewayMetrics _metrics;
    private volatile bool _completed;

    public AuditQueue(int capacity, AuditSpool spool, GatewayMetrics metrics)
    {
        _channel = Channel.CreateBounded<AuditEventRecorded>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait,
            SingleReader = true,
            SingleWriter = false,
        });
        _spool = spool;
        _metrics = metrics;
    }

    public ChannelReader<AuditEventRecorded> Reader => _channel.Reader;

    public int Count => _channel.Reader.Count;

    public void Enqueue(AuditEventRecorded auditEvent)
    {
        if (_channel.Writer.TryWrite(auditEvent))
        {
            _metrics.AuditQueued(1);
            return;
        }

        _spool.Append([auditEvent], _completed ? "shutdown" : "queue_full");
    }

    /// <summary>Queues what fits and spools the rest in one write.</summary>
    public void EnqueueRange(IReadOnlyList<AuditEventRecorded> events)
    {
        var queued = 0;
        List<AuditEventRecorded>? overflow = null;
        foreach (var auditEvent in events)
        {
            if (overflow is null && _channel.Writer.TryWrite(auditEvent))
            {
                queued++;
                continue;
            }

            (overflow ??= []).Add(auditEvent);
        }

        if (queued > 0)
        {
            _metrics.AuditQueued(queued);
        }

        if (overflow is not null)
        {
            _spool.Append(overflow, _completed ? "shutdown" : "queue_full");
        }
    }

    /// <summary>From now on every event goes to the spool; the publisher drains what is left.</summary>
    public void Complete()
    {
        _completed = true;
        _channel.Writer.TryComplete();
    }
}
