namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// The <c>IpBans</c> section: how repeated rate-limit breaches turn into temporary bans shared by every node.
/// </summary>
public sealed class IpBanOptions
{
    public const string SectionName = "IpBans";

    /// <summary>Strikes (rejected requests) inside <see cref="StrikeWindow"/> that ban a client. Default 10.</summary>
    public int StrikesBeforeBan { get; set; } = 10;

    /// <summary>The sliding window strikes are counted in. Default 00:10:00.</summary>
    public TimeSpan StrikeWindow { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// The ladder: the n-th ban of a client lasts the n-th entry; the last entry repeats.
    /// Default 00:01:00, 00:10:00, 01:00:00, 1.00:00:00.
    /// </summary>
    public List<TimeSpan> BanDurations { get; set; } = [];

    /// <summary>A client's offense count falls back to zero this long after its last ban ends. Default 7.00:00:00.</summary>
    public TimeSpan ForgetOffensesAfter { get; set; } = TimeSpan.FromDays(7);

    /// <summary>Addresses or CIDR ranges never banned automatically (they are still rate-limited).</summary>
    public List<string> Allowlist { get; set; } = [];

    /// <summary>Status code of the answer to a banned client. Default 403.</summary>
    public int StatusCode { get; set; } = 403;

    /// <summary>Whether strikes and automatic bans are on at all. Default true; manual bans are always enforced.</summary>
    public bool Enabled { get; set; } = true;

    internal static readonly TimeSpan[] DefaultBanDurations =
        [TimeSpan.FromMinutes(1), TimeSpan.FromMinutes(10), TimeSpan.FromHours(1), TimeSpan.FromDays(1)];

    /// <summary>The ladder in force: the configured one, or the default when none is configured.</summary>
    internal IReadOnlyList<TimeSpan> EffectiveBanDurations => BanDurations.Count > 0 ? BanDurations : DefaultBanDurations;
}
