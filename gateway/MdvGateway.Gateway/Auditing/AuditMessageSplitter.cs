using System.Runtime.InteropServices;
using System.Text.Json;
using MdvGateway.Contracts;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// Cuts a run of events into messages of at most <c>Audit:MaxEventsPerMessage</c> events and about
/// <see cref="MaxMessageBytes"/> serialized, in their order. Pure: the publisher, the replay of the spool and the flush
/// at shutdown share it, so every path produces the same messages.
/// </summary>
/// <remarks>
/// The size is an upper bound computed without serializing: serializing every event once more only to measure it
/// would cost as much as the publish itself. Every character that a JSON encoder might escape is counted as the six
/// bytes of <c>\uXXXX</c>, so the bound holds under System.Text.Json's strictest default encoder as well as under
/// a relaxed one, and in practice (addresses, route and policy names, numbers) it is within a few percent.
/// </remarks>
internal static class AuditMessageSplitter
{
    /// <summary>
    /// The serialized size a message aims to stay under: small enough that one message never holds up the broker's
    /// other traffic or a consumer's prefetch buffer, large enough that 500 ordinary events fit (about 300 bytes each).
    /// A single event larger than this still travels, alone.
    /// </summary>
    public const int MaxMessageBytes = 256 * 1024;

    /// <summary>What MassTransit's envelope adds around the events (ids, addresses, type names, headers), generously.</summary>
    internal const int EnvelopeBytes = 4 * 1024;

    /// <summary>Member names, punctuation, the id, the timestamp and the nulls of one event, generously.</summary>
    internal const int EventStructureBytes = 192;

    /// <summary>How many events go into each message, in order: every count is at least 1 and they add up to <paramref name="events"/>' count.</summary>
    /// <param name="events">The events, in order.</param>
    /// <param name="maxEvents">At most this many per message (<c>Audit:MaxEventsPerMessage</c>).</param>
    /// <param name="maxBytes">About this many bytes per message, at most; a single larger event goes alone.</param>
    public static List<int> Split(IReadOnlyList<AuditEventRecorded> events, int maxEvents, int maxBytes = MaxMessageBytes)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxEvents, 1);
        var counts = new List<int>(events.Count / maxEvents + 1);
        var count = 0;
        long bytes = EnvelopeBytes;
        foreach (var auditEvent in events)
        {
            var size = EstimatedBytes(auditEvent);
            if (count > 0 && (count == maxEvents || bytes + size > maxBytes))
            {
                counts.Add(count);
                count = 0;
                bytes = EnvelopeBytes;
            }

            count++;
            bytes += size;
        }

        if (count > 0)
        {
            counts.Add(count);
        }

        return counts;
    }

    /// <summary>An upper bound of the bytes <paramref name="auditEvent"/> takes as JSON inside a message (its comma included).</summary>
    public static int EstimatedBytes(AuditEventRecorded auditEvent)
        => EventStructureBytes
           + Bound(auditEvent.EventType) + Bound(auditEvent.ClientIp) + Bound(auditEvent.RouteId)
           + Bound(auditEvent.Policy) + Bound(auditEvent.Actor) + Bound(auditEvent.Details);

    private static int Bound(string? value)
    {
        if (value is null)
        {
            return 0;
        }

        var bytes = 0;
        foreach (var c in value)
        {
            bytes += IsPlain(c) ? 1 : 6;
        }

        return bytes;
    }

    private static int Bound(JsonElement details)
    {
        if (details.ValueKind == JsonValueKind.Undefined)
        {
            return 4;
        }

        // The element's own UTF-8 text, without copying it; re-written by the serializer, each byte becomes at most
        // six (a byte of a multi-byte character, or one that gets escaped).
        var bytes = 0;
        foreach (var b in JsonMarshal.GetRawUtf8Value(details))
        {
            bytes += b == '"' || (b < 0x80 && IsPlain((char)b)) ? 1 : 6;
        }

        return bytes;
    }

    /// <summary>
    /// Characters no JSON encoder escapes inside a string: letters, digits and the punctuation of addresses, times and
    /// names. (A quotation mark is plain only as the raw text's own delimiter: one inside a string is preceded there by
    /// a backslash, which counts six.)
    /// </summary>
    private static bool IsPlain(char c)
        => char.IsAsciiLetterOrDigit(c) || c is '.' or ':' or '-' or '_' or '/' or ' ' or ',' or '{' or '}' or '[' or ']';
}
