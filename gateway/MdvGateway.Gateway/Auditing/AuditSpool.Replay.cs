using System.Text.Json;
using MdvGateway.Contracts;

namespace MdvGateway.Gateway.Auditing;

/// <summary>Handing segments to the publisher, oldest first, and retiring them once replayed.</summary>
internal sealed partial class AuditSpool
{
    /// <summary>
    /// The oldest segment, closing the one being written if it is the only one; null when the spool is empty. The
    /// segment stays on disk (and counted) until <see cref="Complete"/>.
    /// </summary>
    public SpoolSegment? TakeOldest()
    {
        lock (_sync)
        {
            if (_disposed)
            {
                return null;
            }

            if (_closed.Count == 0 && _active is not null)
            {
                CloseActive();
            }

            foreach (var (sequence, size) in _closed)
            {
                return new SpoolSegment(sequence, PathOf(sequence), size);
            }

            return null;
        }
    }

    /// <summary>Reads a segment's events; lines that do not parse (a write torn by a crash) are dropped, logged and counted.</summary>
    public List<AuditEventRecorded> Read(SpoolSegment segment) => Read(segment, out _);

    /// <inheritdoc cref="Read(SpoolSegment)"/>
    /// <param name="segment">The segment.</param>
    /// <param name="unreadable">How many lines were dropped.</param>
    public List<AuditEventRecorded> Read(SpoolSegment segment, out int unreadable)
    {
        var events = new List<AuditEventRecorded>();
        unreadable = 0;
        var lineNumber = 0;
        foreach (var line in File.ReadLines(segment.Path))
        {
            lineNumber++;
            if (line.Length == 0)
            {
                continue;
            }

            try
            {
                if (JsonSerializer.Deserialize(line, AuditJson.Default.AuditEventRecorded) is { EventType: not null } e)
                {
                    events.Add(e);
                    continue;
                }
            }
            catch (JsonException)
            {
            }

            unreadable++;
            Log.Unreadable(_logger, segment.Path, lineNumber);
        }

        if (unreadable > 0)
        {
            _metrics.AuditDropped(unreadable, "spool_unreadable");
        }

        return events;
    }

    /// <summary>
    /// Retires a replayed segment: what could not be published is written to the current segment first, then the old
    /// file is deleted. A crash in between publishes some events twice (the consumer keeps each event id once), never
    /// loses one.
    /// </summary>
    public void Complete(SpoolSegment segment, IReadOnlyList<AuditEventRecorded> unpublished)
    {
        if (unpublished.Count > 0)
        {
            Append(unpublished, reason: null, reclaimable: segment.Size);
        }

        lock (_sync)
        {
            try
            {
                File.Delete(segment.Path);
            }
            catch (IOException ex)
            {
                Log.DeleteFailed(_logger, segment.Path, ex.Message);
                return;
            }

            if (_closed.Remove(segment.Sequence))
            {
                Interlocked.Add(ref _totalBytes, -segment.Size);
            }
        }
    }
}
