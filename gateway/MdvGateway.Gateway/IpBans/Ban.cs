using System.Text.Json.Serialization;

namespace MdvGateway.Gateway.IpBans;

/// <summary>One active ban as stored in Redis and shown by the admin API.</summary>
internal sealed record Ban
{
    /// <summary>IP address or CIDR range, canonical (see <see cref="BanTarget"/>).</summary>
    public required string Target { get; init; }

    /// <summary><c>auto</c>, <c>manual</c> or <c>imported</c>.</summary>
    public required string Origin { get; init; }

    public string? Reason { get; init; }

    /// <summary>The offense level for automatic bans (1 = first ban); 0 for manual bans.</summary>
    public int Level { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    /// <summary>When the ban ends; null for a permanent ban.</summary>
    public DateTimeOffset? ExpiresAt { get; init; }

    /// <summary>The gateway node (automatic bans) or the admin key's name.</summary>
    public required string CreatedBy { get; init; }

    /// <summary>The rate-limit policy whose breaches earned the ban, for automatic bans.</summary>
    public string? Policy { get; init; }

    /// <summary>Strikes counted when the ban was issued, for automatic bans.</summary>
    public int? Strikes { get; init; }

    [JsonIgnore]
    public bool IsPermanent => ExpiresAt is null;

    public bool IsActiveAt(DateTimeOffset now) => ExpiresAt is not { } end || end > now;
}

internal static class BanOrigins
{
    public const string Auto = "auto";
    public const string Manual = "manual";
    public const string Imported = "imported";
}
