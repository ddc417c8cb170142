using System.Collections.Immutable;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>A validated, ready-to-evaluate policy. Immutable: a reload builds new instances.</summary>
internal sealed class RateLimitPolicy
{
    public RateLimitPolicy(string name, ImmutableArray<RateLimit> limits, PartitionBy partitionBy, RateLimitMode mode)
    {
        Name = name;
        Limits = limits;
        PartitionBy = partitionBy;
        Mode = mode;
        PolicyHeaderValue = RateLimitHeaders.FormatPolicy(limits);
    }

    public string Name { get; }

    public ImmutableArray<RateLimit> Limits { get; }

    public PartitionBy PartitionBy { get; }

    public RateLimitMode Mode { get; }

    /// <summary>The <c>RateLimit-Policy</c> header value, computed once.</summary>
    public string PolicyHeaderValue { get; }

    /// <summary>Whether a node may count permits ahead for a busy partition of this policy (every limit allows it).</summary>
    public bool ReserveAhead => Limits.All(l => l.ReserveAhead);
}

/// <summary>
/// One limit of a policy: <see cref="PermitLimit"/> requests per sliding <see cref="Window"/>. With
/// <see cref="ReserveAhead"/> a node may count permits ahead for a busy client (its policy's <c>ReserveAhead</c>).
/// </summary>
internal sealed record RateLimit(string Name, int PermitLimit, TimeSpan Window, bool ReserveAhead = true)
{
    /// <summary>The window in whole seconds, rounded up, as the headers state it.</summary>
    public long WindowSeconds => (long)Math.Ceiling(Window.TotalSeconds);

    /// <summary>The length of one of the window's sub-windows in Redis (see <see cref="WindowLayout"/>).</summary>
    public long GranularityMs { get; } = WindowLayout.GranularityMs(Window);
}
