using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.Configuration;
using Microsoft.Extensions.Logging.Abstractions;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class AuditSpoolTests : IDisposable
{
    private readonly TempDirectory _directory = new();
    private readonly MetricsProbe _probe = new();

    private AuditSpool Open(long maxBytes = 1L << 30)
        => new(SpoolDirectoryLock.Acquire(_directory.Path), maxBytes, _probe.Metrics, NullLogger<AuditSpool>.Instance);

    public void Dispose()
    {
        _probe.Dispose();
        _directory.Dispose();
    }

    private static List<AuditEventRecorded> Events(int count) => Enumerable.Range(0, count).Select(_ => AuditTestEvents.Discrete()).ToList();

    [Fact]
    public void Append_ThenRead_RoundTripsEveryField()
    {
        using var spool = Open();
        var written = new AuditEventRecorded(
            Guid.NewGuid(), new DateTimeOffset(2026, 11, 25, 18, 0, 1, 234, TimeSpan.Zero), AuditEventTypes.BanIssued, "2001:db8::/64", "api", "auth", "gateway:x:1",
            AuditDetails.Build(w =>
            {
                w.WriteNumber("level", 2);
                w.WriteNull("expiresAt");
                w.WriteString("reason", "quote \" and newline \n inside");
            }));

        spool.Append([written], "broker_unavailable");
        var segment = spool.TakeOldest();

        Assert.NotNull(segment);
        var read = Assert.Single(spool.Read(segment));
        Assert.Equal(written with { Details = default }, read with { Details = default });
        Assert.Equal(written.Details.GetRawText(), read.Details.GetRawText());
        Assert.Equal(1, _probe.Total("mdv.gateway.audit.spooled", "reason=broker_unavailable"));
    }

    [Fact]
    public void Append_WritesOneJsonLinePerEvent()
    {
        using var spool = Open();

        spool.Append(Events(3), "queue_full");
        spool.Append(Events(2), "queue_full");

        var file = Assert.Single(_directory.Segments());
        Assert.Equal(5, File.ReadAllLines(file).Length);
        Assert.Equal(new FileInfo(file).Length, spool.Bytes);
    }

    [Fact]
    public void Append_BeyondMaxSpoolBytes_DropsTheRestAndCountsIt()
    {
        using var spool = Open(maxBytes: 2_000);

        spool.Append(Events(100), "broker_unavailable");

        var kept = File.ReadAllLines(Assert.Single(_directory.Segments())).Length;
        Assert.InRange(kept, 1, 99);
        Assert.True(spool.Bytes <= 2_000);
        Assert.Equal(kept, _probe.Total("mdv.gateway.audit.spooled"));
        Assert.Equal(100 - kept, _probe.Total("mdv.gateway.audit.dropped", "reason=spool_full"));
    }

    [Fact]
    public void TakeOldest_OnlyTheSegmentBeingWritten_ClosesIt_AndCompleteDeletesIt()
    {
        using var spool = Open();
        spool.Append(Events(4), "broker_unavailable");

        var segment = spool.TakeOldest()!;
        spool.Append(Events(1), "broker_unavailable");

        Assert.Equal(2, _directory.Segments().Length);
        Assert.Equal(4, spool.Read(segment).Count);
        spool.Complete(segment, []);
        Assert.False(File.Exists(segment.Path));
        var next = spool.TakeOldest()!;
        Assert.True(next.Sequence > segment.Sequence);
        Assert.Single(spool.Read(next));
        spool.Complete(next, []);
        Assert.Empty(_directory.Segments());
        Assert.Equal(0, spool.Bytes);
        Assert.False(spool.HasPending);
        Assert.Null(spool.TakeOldest());
    }

    [Fact]
    public void Complete_WithUnpublishedEvents_KeepsExactlyThose()
    {
        using var spool = Open();
        var events = Events(10);
        spool.Append(events, "broker_unavailable");
        var segment = spool.TakeOldest()!;

        spool.Complete(segment, events.Skip(6).ToList());

        Assert.False(File.Exists(segment.Path));
        var rest = spool.TakeOldest()!;
        Assert.Equal(events.Skip(6).Select(e => e.EventId), spool.Read(rest).Select(e => e.EventId));
        // Rewriting what is left is not a new spooling.
        Assert.Equal(10, _probe.Total("mdv.gateway.audit.spooled"));
    }

    [Fact]
    public void Segments_RotateBySize_AndAreReplayedOldestFirst()
    {
        // 1 MiB bound: segments of 128 KiB.
        using var spool = Open(maxBytes: 1L << 20);
        var events = Events(1_500);
        foreach (var chunk in events.Chunk(100))
        {
            spool.Append(chunk, "broker_unavailable");
        }

        Assert.True(_directory.Segments().Length > 1);
        var replayed = new List<Guid>();
        while (spool.TakeOldest() is { } segment)
        {
            replayed.AddRange(spool.Read(segment).Select(e => e.EventId));
            spool.Complete(segment, []);
        }

        Assert.Equal(events.Select(e => e.EventId), replayed);
    }

    [Fact]
    public void NewSpool_FindsWhatAnEarlierProcessLeft()
    {
        var events = Events(7);
        using (var first = Open())
        {
            first.Append(events, "shutdown");
        }

        using var second = Open();

        Assert.True(second.HasPending);
        var segment = second.TakeOldest()!;
        Assert.Equal(events.Select(e => e.EventId), second.Read(segment).Select(e => e.EventId));
        second.Append(Events(1), "shutdown");
        Assert.Equal(2, _directory.Segments().Length);
    }

    [Fact]
    public void Read_TornLine_IsSkippedCountedAndTheRestKept()
    {
        var events = Events(3);
        using (var first = Open())
        {
            first.Append(events, "shutdown");
        }

        var file = Assert.Single(_directory.Segments());
        File.AppendAllText(file, "{\"eventId\":\"5d0f");

        using var second = Open();
        var read = second.Read(second.TakeOldest()!);

        Assert.Equal(events.Select(e => e.EventId), read.Select(e => e.EventId));
        Assert.Equal(1, _probe.Total("mdv.gateway.audit.dropped", "reason=spool_unreadable"));
    }

    [Fact]
    public void Append_AfterDispose_IsDroppedAndCounted()
    {
        var spool = Open();
        spool.Dispose();

        spool.Append(Events(2), "shutdown");

        Assert.Equal(2, _probe.Total("mdv.gateway.audit.dropped", "reason=spool_closed"));
    }

    [Fact]
    public void Lock_SecondAcquireOfOneDirectory_FailsNamingTheDirectory()
    {
        using var held = SpoolDirectoryLock.Acquire(_directory.Path);

        var error = Assert.Throws<GatewayConfigurationException>(() => SpoolDirectoryLock.Acquire(_directory.Path));

        var problem = Assert.Single(error.Problems);
        Assert.StartsWith("Audit:SpoolDirectory:", problem, StringComparison.Ordinal);
        Assert.Contains(_directory.Path, problem, StringComparison.Ordinal);
        Assert.Contains("another gateway process", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Lock_Released_CanBeTakenAgain()
    {
        SpoolDirectoryLock.Acquire(_directory.Path).Dispose();

        using var again = SpoolDirectoryLock.Acquire(_directory.Path);

        Assert.Equal(_directory.Path, again.Directory);
    }

    [Fact]
    public void Lock_CreatesAMissingDirectory()
    {
        var nested = Path.Combine(_directory.Path, "a", "b");

        using var held = SpoolDirectoryLock.Acquire(nested);

        Assert.True(File.Exists(Path.Combine(nested, SpoolDirectoryLock.FileName)));
    }
}
