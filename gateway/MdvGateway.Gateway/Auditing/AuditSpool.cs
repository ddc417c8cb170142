using System.Globalization;
using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Diagnostics;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// Events waiting on disk while the broker is away: append-only JSON-lines segment files (<c>audit-000000000001.jsonl</c>,
/// oldest first), flushed to disk (fsync) after every batch, replayed oldest first and deleted once every event in
/// them is confirmed. Bounded by <see cref="AuditOptions.MaxSpoolBytes"/>; what does not fit is dropped, logged and
/// counted. Thread-safe: any thread appends, one (the publisher) replays.
/// </summary>
internal sealed partial class AuditSpool : IDisposable
{
    private const string Prefix = "audit-";
    private const string Extension = ".jsonl";

    private readonly Lock _sync = new();
    private readonly SpoolDirectoryLock _lock;
    private readonly long _maxBytes;
    private readonly long _segmentBytes;
    private readonly GatewayMetrics _metrics;
    private readonly ILogger<AuditSpool> _logger;
    private readonly SortedDictionary<long, long> _closed = [];
    private FileStream? _active;
    private long _activeSequence;
    private long _activeBytes;
    private long _nextSequence = 1;
    private long _totalBytes;
    private bool _disposed;

    public AuditSpool(SpoolDirectoryLock directoryLock, long maxBytes, GatewayMetrics metrics, ILogger<AuditSpool> logger)
    {
        _lock = directoryLock;
        _maxBytes = maxBytes;
        // Small enough that replay makes visible progress and frees space early, large enough not to churn files.
        _segmentBytes = Math.Clamp(maxBytes / 8, 64 * 1024, 8 * 1024 * 1024);
        _metrics = metrics;
        _logger = logger;

        foreach (var path in System.IO.Directory.EnumerateFiles(Directory, Prefix + "*" + Extension))
        {
            if (TryParseSequence(path, out var sequence))
            {
                var size = new FileInfo(path).Length;
                _nextSequence = Math.Max(_nextSequence, sequence + 1);
                if (size == 0)
                {
                    // Opened by a process that died before its first write: nothing to replay.
                    File.Delete(path);
                    continue;
                }

                _closed[sequence] = size;
                _totalBytes += size;
                _nextSequence = Math.Max(_nextSequence, sequence + 1);
            }
        }

        if (_closed.Count > 0)
        {
            Log.Found(_logger, _closed.Count, _totalBytes, Directory);
        }
    }

    public string Directory => _lock.Directory;

    /// <summary>Bytes on disk, the segment being written included.</summary>
    public long Bytes => Interlocked.Read(ref _totalBytes);

    public bool HasPending => Bytes > 0;

    /// <summary>Writes <paramref name="events"/> and flushes them to disk; drops (counts, logs) what exceeds the bound.</summary>
    /// <param name="events">The events.</param>
    /// <param name="reason">Why they are spooled, for <c>mdv.gateway.audit.spooled</c>.</param>
    public void Append(IReadOnlyList<AuditEventRecorded> events, string reason)
        => Append(events, reason, reclaimable: 0);

    public void Dispose()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            _active?.Dispose();
            _active = null;
            _lock.Dispose();
        }
    }

    private void Append(IReadOnlyList<AuditEventRecorded> events, string? reason, long reclaimable)
    {
        if (events.Count == 0)
        {
            return;
        }

        // Serialise outside the lock; only the file write is serialised.
        var lines = new byte[events.Count][];
        for (var i = 0; i < events.Count; i++)
        {
            var json = JsonSerializer.SerializeToUtf8Bytes(events[i], AuditJson.Default.AuditEventRecorded);
            var line = new byte[json.Length + 1];
            json.CopyTo(line, 0);
            line[^1] = (byte)'\n';
            lines[i] = line;
        }

        var written = 0;
        var failed = 0;
        lock (_sync)
        {
            if (_disposed)
            {
                _metrics.AuditDropped(events.Count, "spool_closed");
                Log.DroppedClosed(_logger, events.Count);
                return;
            }

            var room = _maxBytes + reclaimable - _totalBytes;
            long bytes = 0;
            try
            {
                _active ??= OpenActive();
                foreach (var line in lines)
                {
                    if (bytes + line.Length > room)
                    {
                        break;
                    }

                    _active.Write(line);
                    bytes += line.Length;
                    written++;
                }

                _active.Flush(flushToDisk: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // Disk full or failing: nothing of this batch is known to be durable. What did reach the file may be
                // torn; the reader skips torn lines.
                failed = events.Count;
                written = 0;
                Log.WriteFailed(_logger, failed, Directory, ex.Message);
            }

            _activeBytes += bytes;
            Interlocked.Add(ref _totalBytes, bytes);
            if (_active is not null && (failed > 0 || _activeBytes >= _segmentBytes))
            {
                CloseActive();
            }
        }

        if (failed > 0)
        {
            _metrics.AuditDropped(failed, "spool_write_failed");
            return;
        }

        if (reason is not null && written > 0)
        {
            _metrics.AuditSpooled(written, reason);
        }

        var dropped = events.Count - written;
        if (dropped > 0)
        {
            _metrics.AuditDropped(dropped, "spool_full");
            Log.Full(_logger, dropped, Directory, _maxBytes);
        }
    }

    private FileStream OpenActive()
    {
        _activeSequence = _nextSequence++;
        _activeBytes = 0;
        // Readable by others (operators, tests) while being written; never writable by them.
        return new FileStream(PathOf(_activeSequence), FileMode.CreateNew, FileAccess.Write, FileShare.Read);
    }

    private void CloseActive()
    {
        if (_active is null)
        {
            return;
        }

        try
        {
            _active.Dispose();
        }
        catch (IOException ex)
        {
            Log.WriteFailed(_logger, 0, Directory, ex.Message);
        }

        _active = null;
        if (_activeBytes > 0)
        {
            _closed[_activeSequence] = _activeBytes;
            return;
        }

        try
        {
            File.Delete(PathOf(_activeSequence));
        }
        catch (IOException ex)
        {
            Log.DeleteFailed(_logger, PathOf(_activeSequence), ex.Message);
        }
    }

    private string PathOf(long sequence)
        => Path.Combine(Directory, string.Create(CultureInfo.InvariantCulture, $"{Prefix}{sequence:D12}{Extension}"));

    private static bool TryParseSequence(string path, out long sequence)
    {
        var name = Path.GetFileName(path.AsSpan());
        sequence = 0;
        return name.StartsWith(Prefix, StringComparison.Ordinal) && name.EndsWith(Extension, StringComparison.Ordinal)
            && long.TryParse(name[Prefix.Length..^Extension.Length], NumberStyles.None, CultureInfo.InvariantCulture, out sequence);
    }
}
