using MdvGateway.Contracts;
using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// Where the gateway reports what the audit trail must show. Every method returns at once and never waits on the
/// broker (at worst, when the in-memory queue is full, on a local disk write); none throws.
/// </summary>
internal interface IAuditSink
{
    /// <summary>Counts one request answered 429 by <paramref name="limit"/> of <paramref name="policy"/>.</summary>
    /// <param name="client">The client key (IPv4 address or IPv6 prefix), or null when the client is unknown.</param>
    /// <param name="routeId">The YARP route.</param>
    /// <param name="policy">The policy's name.</param>
    /// <param name="limit">The limit that rejected the request.</param>
    /// <param name="at">When the request was rejected.</param>
    void RateLimitRejected(string? client, string routeId, string policy, RateLimit limit, DateTimeOffset at);

    /// <summary>Counts one request refused because its client is banned.</summary>
    void BanBlocked(string? client, DateTimeOffset at);

    /// <summary>Records a discrete event (a ban issued or lifted, an admin write, a configuration reload) as is.</summary>
    void Record(AuditEventRecorded auditEvent);

    /// <summary>
    /// Counts one refusal that is not a rate limit (a failed admin authentication, an admin lockout), reported as
    /// <c>abuse.refused</c> per client and reason per aggregation interval.
    /// </summary>
    /// <param name="client">The client key (IPv4 address or IPv6 prefix), or null when the client is unknown.</param>
    /// <param name="reason">Why it was refused, e.g. <c>admin-auth-failed</c>; refusals are counted per reason.</param>
    /// <param name="at">When the request was refused.</param>
    void AbuseRefused(string? client, string reason, DateTimeOffset at);
}
