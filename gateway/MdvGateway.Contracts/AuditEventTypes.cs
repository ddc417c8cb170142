namespace MdvGateway.Contracts;

/// <summary>The values of <see cref="AuditEventRecorded.EventType"/> and the members each one's details carry.</summary>
public static class AuditEventTypes
{
    /// <summary>Rejections of one client by one policy in one aggregation interval: <c>count</c>, <c>firstAt</c>, <c>lastAt</c>, <c>limit</c>, <c>window</c> (seconds).</summary>
    public const string RateLimitExceeded = "rate_limit.exceeded";

    /// <summary>An automatic or manual ban: <c>level</c>, <c>duration</c> (seconds, null = permanent), <c>expiresAt</c>, <c>origin</c>, <c>strikes</c>, <c>reason</c>.</summary>
    public const string BanIssued = "ban.issued";

    /// <summary>A ban lifted by hand (or recorded at expiry): <c>origin</c>, <c>resetLevel</c>.</summary>
    public const string BanLifted = "ban.lifted";

    /// <summary>Requests refused because of a ban, per client per aggregation interval: <c>count</c>, <c>firstAt</c>, <c>lastAt</c>.</summary>
    public const string BanBlocked = "ban.blocked";

    /// <summary>Prefix of admin API writes, e.g. <c>admin.ban.created</c>: <c>method</c>, <c>path</c>, <c>status</c>, and a request summary.</summary>
    public const string AdminPrefix = "admin.";

    /// <summary>A hot reload put in force: <c>changed</c> (the sections that changed).</summary>
    public const string ConfigReloaded = "config.reloaded";

    /// <summary>A hot reload refused: <c>problems</c> (every problem with its configuration path).</summary>
    public const string ConfigRejected = "config.rejected";

    /// <summary>Refusals that are not rate limits (connection limits, failed admin authentication), aggregated: <c>reason</c>, <c>count</c>.</summary>
    public const string AbuseRefused = "abuse.refused";
}
