using System.Globalization;
using System.Net;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The filters, order and page of <c>GET /admin/bans</c>, as pure logic. Every filter is optional and they combine
/// with AND; the order is <c>createdAt</c>, then <c>target</c> (ordinal), so pages are stable.
/// </summary>
internal sealed record BanQuery
{
    public const int DefaultLimit = 100;
    public const int MaxLimit = 10_000;

    public static readonly string[] Parameters = ["ip", "contains", "origin", "since", "until", "limit", "offset", "format"];

    /// <summary><c>ip=</c>: the ban whose target is exactly this address (an IPv6 address means its client prefix) or range.</summary>
    public string? Ip { get; init; }

    /// <summary><c>contains=</c> an address: the bans that cover it. <c>contains=</c> a range: the bans inside it.</summary>
    public IPNetwork? Contains { get; init; }

    public bool ContainsIsAddress { get; init; }

    public string? Origin { get; init; }

    /// <summary>Inclusive lower bound on <c>createdAt</c>.</summary>
    public DateTimeOffset? Since { get; init; }

    /// <summary>Exclusive upper bound on <c>createdAt</c>.</summary>
    public DateTimeOffset? Until { get; init; }

    public int Limit { get; init; } = DefaultLimit;

    public int Offset { get; init; }

    public bool Csv { get; init; }

    public static bool TryParse(IQueryCollection query, int ipv6PrefixLength, out BanQuery result, out string error)
    {
        result = new BanQuery();
        if (!TryCheckParameters(query, Parameters, out error))
        {
            return false;
        }

        if (Single(query, "ip") is { } ip)
        {
            if (!BanInput.TryParseTarget(ip, ipv6PrefixLength, out var target, out var why))
            {
                error = "ip: " + why;
                return false;
            }

            result = result with { Ip = target.Canonical };
        }

        if (Single(query, "contains") is { } contains)
        {
            if (!NetworkList.TryParseNetwork(contains, out var network, out var why))
            {
                error = "contains: " + why;
                return false;
            }

            var full = network.BaseAddress.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork ? 32 : 128;
            result = result with { Contains = network, ContainsIsAddress = network.PrefixLength == full };
        }

        if (Single(query, "origin") is { } origin)
        {
            if (origin is not (BanOrigins.Auto or BanOrigins.Manual or BanOrigins.Imported))
            {
                error = $"origin: '{BanInput.Shorten(origin)}' is not one of auto, manual, imported";
                return false;
            }

            result = result with { Origin = origin };
        }

        foreach (var name in (string[])["since", "until"])
        {
            if (Single(query, name) is not { } text)
            {
                continue;
            }

            if (!BanInput.TryParseInstant(text, out var instant, out var why))
            {
                error = $"{name}: {why}";
                return false;
            }

            result = name == "since" ? result with { Since = instant } : result with { Until = instant };
        }

        if (result.Since is { } since && result.Until is { } until && since >= until)
        {
            error = "since must be earlier than until";
            return false;
        }

        if (!TryParseInt(query, "limit", 1, MaxLimit, DefaultLimit, out var limit, out error)
            || !TryParseInt(query, "offset", 0, int.MaxValue, 0, out var offset, out error))
        {
            return false;
        }

        var format = Single(query, "format");
        if (format is not (null or "json" or "csv"))
        {
            error = $"format: '{BanInput.Shorten(format)}' is not one of json, csv";
            return false;
        }

        result = result with { Limit = limit, Offset = offset, Csv = format == "csv" };
        error = string.Empty;
        return true;
    }

    /// <summary>Filters, sorts and pages <paramref name="bans"/>.</summary>
    /// <returns>How many bans match in all, and the requested page of them.</returns>
    public (int Total, List<Ban> Page) Apply(IEnumerable<Ban> bans, int ipv6PrefixLength)
    {
        var matching = bans.Where(ban => Matches(ban, ipv6PrefixLength))
            .OrderBy(ban => ban.CreatedAt)
            .ThenBy(ban => ban.Target, StringComparer.Ordinal)
            .ToList();
        var page = matching.Skip(Offset).Take(Limit).ToList();
        return (matching.Count, page);
    }

    public bool Matches(Ban ban, int ipv6PrefixLength)
    {
        if (Ip is not null && !string.Equals(ban.Target, Ip, StringComparison.Ordinal))
        {
            return false;
        }

        if (Origin is not null && !string.Equals(ban.Origin, Origin, StringComparison.Ordinal))
        {
            return false;
        }

        if ((Since is { } since && ban.CreatedAt < since) || (Until is { } until && ban.CreatedAt >= until))
        {
            return false;
        }

        if (Contains is { } range)
        {
            if (!BanTarget.TryParse(ban.Target, ipv6PrefixLength, out var target, out _))
            {
                return false;
            }

            return ContainsIsAddress ? target.Contains(range.BaseAddress) : BanInput.IsInside(target.Network, range);
        }

        return true;
    }

    /// <summary>Refuses parameters an endpoint does not know (a typo must not silently widen a query) and repeated ones.</summary>
    public static bool TryCheckParameters(IQueryCollection query, IReadOnlyList<string> known, out string error)
    {
        foreach (var (name, values) in query)
        {
            if (!known.Contains(name, StringComparer.OrdinalIgnoreCase))
            {
                error = known.Count == 0
                    ? $"unknown query parameter '{BanInput.Shorten(name)}' (this endpoint takes none)"
                    : $"unknown query parameter '{BanInput.Shorten(name)}' (known: {string.Join(", ", known)})";
                return false;
            }

            if (values.Count > 1)
            {
                error = $"query parameter '{name}' is given more than once";
                return false;
            }
        }

        error = string.Empty;
        return true;
    }

    public static bool TryParseInt(IQueryCollection query, string name, int min, int max, int fallback, out int value, out string error)
    {
        value = fallback;
        error = string.Empty;
        if (Single(query, name) is not { } text)
        {
            return true;
        }

        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out value) || value < min || value > max)
        {
            error = $"{name}: '{BanInput.Shorten(text)}' must be a whole number from {min} to {max}";
            return false;
        }

        return true;
    }

    internal static string? Single(IQueryCollection query, string name)
        => query.TryGetValue(name, out var values) && values.Count == 1 ? values[0] : null;
}
