using MdvGateway.Gateway.Auditing;
using Microsoft.Extensions.Logging.Abstractions;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class AuditQueueTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly MetricsProbe _probe = new();
    private readonly AuditSpool _spool;

    public AuditQueueTests()
    {
        _spool = new AuditSpool(SpoolDirectoryLock.Acquire(_directory.Path), 1L << 30, _probe.Metrics, NullLogger<AuditSpool>.Instance);
    }

    public void Dispose()
    {
        _spool.Dispose();
        _probe.Dispose();
        _directory.Dispose();
    }

    private List<Guid> Spooled()
    {
        var ids = new List<Guid>();
        while (_spool.TakeOldest() is { } segment)
        {
            ids.AddRange(_spool.Read(segment).Select(e => e.EventId));
            _spool.Complete(segment, []);
        }

        return ids;
    }

    [Fact]
    public void Enqueue_WhenFull_SpoolsInsteadOfDropping()
    {
        var queue = new AuditQueue(2, _spool, _probe.Metrics);
        var events = Enumerable.Range(0, 5).Select(_ => AuditTestEvents.Discrete()).ToList();

        events.ForEach(queue.Enqueue);

        Assert.Equal(2, queue.Count);
        Assert.Equal(events.Skip(2).Select(e => e.EventId), Spooled());
        Assert.Equal(2, _probe.Total("mdv.gateway.audit.queued"));
        Assert.Equal(3, _probe.Total("mdv.gateway.audit.spooled", "reason=queue_full"));
        Assert.Equal(0, _probe.Total("mdv.gateway.audit.dropped"));
    }

    [Fact]
    public void EnqueueRange_WhenFull_SpoolsTheRestInOneWrite()
    {
        var queue = new AuditQueue(3, _spool, _probe.Metrics);
        var events = Enumerable.Range(0, 10).Select(_ => AuditTestEvents.Discrete()).ToList();

        queue.EnqueueRange(events);

        Assert.Equal(3, queue.Count);
        Assert.Equal(7, File.ReadAllLines(Assert.Single(_directory.Segments())).Length);
        var queued = new List<Guid>();
        while (queue.Reader.TryRead(out var e))
        {
            queued.Add(e.EventId);
        }

        Assert.Equal(events.Select(e => e.EventId), queued.Concat(Spooled()));
    }

    [Fact]
    public void Enqueue_AfterComplete_GoesToTheSpool()
    {
        var queue = new AuditQueue(100, _spool, _probe.Metrics);
        queue.Complete();

        queue.Enqueue(AuditTestEvents.Discrete());

        Assert.Equal(0, queue.Count);
        Assert.Single(Spooled());
        Assert.Equal(1, _probe.Total("mdv.gateway.audit.spooled", "reason=shutdown"));
    }
}
