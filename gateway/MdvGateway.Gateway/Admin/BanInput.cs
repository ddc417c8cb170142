using System.Globalization;
using System.Net;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

/// <summary>The admin API's rules for what a person may type: targets, durations, instants, reasons.</summary>
internal static class BanInput
{
    /// <summary>The longest timed ban; anything longer is written as permanent (a null duration).</summary>
    public static readonly TimeSpan MaxDuration = TimeSpan.FromDays(3650);

    public const int MaxReasonLength = 1000;

    private const int MaxTargetLength = 100;

    private static readonly string[] InstantFormats =
    [
        "yyyy-MM-dd",
        "yyyy-MM-dd'T'HH:mmK",
        "yyyy-MM-dd'T'HH:mm:ssK",
        "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK",
    ];

    /// <summary>An address or CIDR range, in the canonical form bans are stored under.</summary>
    public static bool TryParseTarget(string? text, int ipv6PrefixLength, out BanTarget target, out string error)
    {
        target = null!;
        if (string.IsNullOrWhiteSpace(text))
        {
            error = "a target (IP address or CIDR range) is required";
            return false;
        }

        if (text.Length > MaxTargetLength)
        {
            error = "the target is not a valid IP address or CIDR range";
            return false;
        }

        return BanTarget.TryParse(text, ipv6PrefixLength, out target, out error);
    }

    /// <summary>
    /// <c>hh:mm:ss</c> or <c>d.hh:mm:ss</c> (optionally with fractional seconds), positive and at most
    /// <see cref="MaxDuration"/>; null means permanent. A bare number is refused: <c>"60"</c> would otherwise be 60 days.
    /// </summary>
    public static bool TryParseDuration(string? text, out TimeSpan? duration, out string error)
    {
        duration = null;
        error = string.Empty;
        if (text is null)
        {
            return true;
        }

        var trimmed = text.Trim();
        if (trimmed.StartsWith('-'))
        {
            error = $"duration '{Shorten(trimmed)}' is negative; use DELETE to lift a ban";
            return false;
        }

        if (trimmed.Count(c => c == ':') != 2
            || !TimeSpan.TryParseExact(trimmed, "c", CultureInfo.InvariantCulture, out var parsed))
        {
            error = $"duration '{Shorten(trimmed)}' is not hh:mm:ss or d.hh:mm:ss (hours 0-23: 36 hours is 1.12:00:00; null for a permanent ban)";
            return false;
        }

        if (parsed <= TimeSpan.Zero)
        {
            error = "duration must be longer than zero; use DELETE to lift a ban";
            return false;
        }

        if (parsed > MaxDuration)
        {
            error = $"duration must be at most {MaxDuration.Days}.00:00:00 (null for a permanent ban)";
            return false;
        }

        duration = parsed;
        return true;
    }

    /// <summary>An ISO 8601 date or date-time; without an offset it is UTC. A space is read as <c>+</c> (an unencoded query).</summary>
    public static bool TryParseInstant(string? text, out DateTimeOffset instant, out string error)
    {
        instant = default;
        var candidate = text?.Trim().Replace(' ', '+');
        if (string.IsNullOrEmpty(candidate)
            || !DateTimeOffset.TryParseExact(candidate, InstantFormats, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out instant))
        {
            error = $"'{Shorten(text ?? string.Empty)}' is not an ISO 8601 date or date-time (e.g. 2026-11-25T10:00:00Z)";
            return false;
        }

        error = string.Empty;
        return true;
    }

    public static bool TryValidateReason(string? reason, out string error)
    {
        error = reason is { Length: > MaxReasonLength } ? $"reason is longer than {MaxReasonLength} characters" : string.Empty;
        return error.Length == 0;
    }

    /// <summary>The first allowlist entry that overlaps <paramref name="target"/>, or null.</summary>
    public static string? AllowlistOverlap(BanTarget target, IEnumerable<string> allowlist)
    {
        foreach (var entry in allowlist)
        {
            if (NetworkList.TryParseNetwork(entry, out var allowed, out _) && Overlaps(target.Network, allowed))
            {
                return entry;
            }
        }

        return null;
    }

    /// <summary>Two CIDR ranges share an address exactly when one contains the other's first address.</summary>
    public static bool Overlaps(IPNetwork a, IPNetwork b)
        => a.BaseAddress.AddressFamily == b.BaseAddress.AddressFamily && (a.Contains(b.BaseAddress) || b.Contains(a.BaseAddress));

    /// <summary>Whether <paramref name="inner"/> lies entirely inside <paramref name="outer"/>.</summary>
    public static bool IsInside(IPNetwork inner, IPNetwork outer)
        => inner.BaseAddress.AddressFamily == outer.BaseAddress.AddressFamily
           && inner.PrefixLength >= outer.PrefixLength
           && outer.Contains(inner.BaseAddress);

    public static bool TryParseBoolean(string? text, out bool value)
    {
        value = false;
        return text is not null && bool.TryParse(text.Trim(), out value);
    }

    internal static string Shorten(string text) => text.Length <= 64 ? text : text[..64] + "…";
}
