using System.Text.Json;
using System.Text.RegularExpressions;
using MdvGateway.Contracts;
using NpgsqlTypes;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// One row of <c>audit_logs</c> as the writer stores it: checked against everything PostgreSQL would refuse, so a
/// batch never fails because of one bad event. <see cref="TryCreate"/> is the single definition of "can be stored".
/// </summary>
internal sealed partial record AuditRecord(
    Guid EventId,
    string EventType,
    DateTimeOffset OccurredAt,
    NpgsqlInet? ClientIp,
    string? RouteId,
    string? Policy,
    string? Actor,
    string Details)
{
    /// <summary>Longest <c>event_type</c>, and longest <c>route_id</c>/<c>policy</c>/<c>actor</c>: all are indexed, and
    /// a B-tree entry must fit in a third of a page.</summary>
    public const int MaxEventTypeLength = 100;

    public const int MaxTextLength = 1024;

    /// <summary>Events dated before this are a publisher bug (an unset timestamp), not history.</summary>
    public static readonly DateTimeOffset EarliestOccurredAt = DateTimeOffset.UnixEpoch;

    /// <summary>
    /// Validates and normalises one event. Unknown but well-formed event types are stored (a newer gateway may be
    /// rolled out before its consumers); only what can never be stored is refused.
    /// </summary>
    public static bool TryCreate(AuditEventRecorded message, out AuditRecord record, out AuditRejection? rejection)
    {
        record = null!;
        rejection = null;
        if (message.EventId == Guid.Empty)
        {
            rejection = new(message.EventId, AuditRejectionReason.MissingEventId, "EventId is empty");
            return false;
        }

        if (message.EventType is null || message.EventType.Length > MaxEventTypeLength || !EventTypePattern().IsMatch(message.EventType))
        {
            rejection = new(message.EventId, AuditRejectionReason.InvalidEventType,
                $"EventType '{Shorten(message.EventType)}' is not a dotted lower-case name such as '{AuditEventTypes.BanIssued}'");
            return false;
        }

        if (message.OccurredAt < EarliestOccurredAt)
        {
            rejection = new(message.EventId, AuditRejectionReason.InvalidOccurredAt,
                $"OccurredAt {message.OccurredAt:O} is before {EarliestOccurredAt:O} (an unset timestamp?)");
            return false;
        }

        NpgsqlInet? clientIp = null;
        if (!string.IsNullOrEmpty(message.ClientIp))
        {
            if (!ClientAddress.TryParse(message.ClientIp, out var parsed))
            {
                rejection = new(message.EventId, AuditRejectionReason.InvalidClientIp,
                    $"ClientIp '{Shorten(message.ClientIp)}' is not an IP address or CIDR block");
                return false;
            }

            clientIp = parsed;
        }

        foreach (var (name, value) in new[] { ("RouteId", message.RouteId), ("Policy", message.Policy), ("Actor", message.Actor) })
        {
            if (value is not null && TextProblem(value, MaxTextLength) is { } problem)
            {
                rejection = new(message.EventId, AuditRejectionReason.InvalidText, $"{name} {problem}");
                return false;
            }
        }

        if (message.Details.ValueKind != JsonValueKind.Object)
        {
            rejection = new(message.EventId, AuditRejectionReason.InvalidDetails,
                $"Details is {Describe(message.Details.ValueKind)}, not a JSON object");
            return false;
        }

        if (JsonProblem(message.Details) is { } jsonProblem)
        {
            rejection = new(message.EventId, AuditRejectionReason.InvalidDetails, $"Details {jsonProblem}");
            return false;
        }

        record = new AuditRecord(message.EventId, message.EventType, message.OccurredAt.ToUniversalTime(), clientIp,
            message.RouteId, message.Policy, message.Actor, message.Details.GetRawText());
        return true;
    }

    /// <summary>PostgreSQL's <c>text</c> holds no NUL character, and the UTF-8 encoder refuses lone surrogates.</summary>
    private static string? TextProblem(string value, int maxLength)
    {
        if (value.Length > maxLength)
        {
            return $"is {value.Length} characters long (at most {maxLength})";
        }

        if (value.Contains('\0', StringComparison.Ordinal))
        {
            return "contains a NUL character";
        }

        for (var i = 0; i < value.Length; i++)
        {
            if (char.IsHighSurrogate(value[i]) && i + 1 < value.Length && char.IsLowSurrogate(value[i + 1]))
            {
                i++;
            }
            else if (char.IsSurrogate(value[i]))
            {
                return "contains an unpaired UTF-16 surrogate";
            }
        }

        return null;
    }

    /// <summary><c>jsonb</c> refuses <c>\u0000</c> and unpaired surrogates in any string or member name.</summary>
    private static string? JsonProblem(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (TextProblem(property.Name, int.MaxValue) is { } nameProblem)
                    {
                        return $"member name {nameProblem}";
                    }

                    if (JsonProblem(property.Value) is { } valueProblem)
                    {
                        return valueProblem;
                    }
                }

                return null;
            case JsonValueKind.Array:
                foreach (var item in element.EnumerateArray())
                {
                    if (JsonProblem(item) is { } itemProblem)
                    {
                        return itemProblem;
                    }
                }

                return null;
            case JsonValueKind.String:
                string text;
                try
                {
                    text = element.GetString()!;
                }
                catch (InvalidOperationException)
                {
                    return "holds a string that is not valid UTF-16";
                }

                return TextProblem(text, int.MaxValue) is { } stringProblem ? $"holds a string that {stringProblem}" : null;
            default:
                return null;
        }
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Undefined => "missing",
        JsonValueKind.Null => "null",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        _ => "a boolean",
    };

    private static string Shorten(string? value) => value is null ? "(null)" : value.Length <= 64 ? value : value[..64] + "…";

    [GeneratedRegex("^[a-z][a-z0-9_-]*(\\.[a-z0-9_-]+)+$", RegexOptions.CultureInvariant)]
    private static partial Regex EventTypePattern();
}
