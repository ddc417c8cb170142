namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// The <c>RateLimiting</c> section. Routes pick a policy by name through YARP's <c>RateLimiterPolicy</c>;
/// a route that names none gets <see cref="DefaultPolicy"/>, and <c>"Disable"</c> turns limiting off for a route.
/// </summary>
public sealed class RateLimitingOptions
{
    public const string SectionName = "RateLimiting";

    /// <summary>Policy for routes that name none. Unset (the default): such routes are not limited.</summary>
    public string? DefaultPolicy { get; set; }

    /// <summary>What happens while Redis cannot be reached. Default <see cref="StoreUnavailableBehavior.FallbackToLocal"/>.</summary>
    public StoreUnavailableBehavior WhenStoreUnavailable { get; set; } = StoreUnavailableBehavior.FallbackToLocal;

    /// <summary>Addresses or CIDR ranges that are never rate-limited (and so never earn strikes).</summary>
    public List<string> Exempt { get; set; } = [];

    /// <summary>Named policies. Names: letters, digits, <c>-</c>, <c>_</c>, <c>.</c>; not <c>Default</c> or <c>Disable</c>.</summary>
    public Dictionary<string, RateLimitPolicyOptions> Policies { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}

/// <summary>One policy: either one limit (<see cref="PermitLimit"/> and <see cref="Window"/>) or several (<see cref="Limits"/>).</summary>
public sealed class RateLimitPolicyOptions
{
    /// <summary>Requests admitted per <see cref="Window"/> for one partition.</summary>
    public int? PermitLimit { get; set; }

    /// <summary>Length of the sliding window, e.g. <c>00:00:01</c>. At least one second.</summary>
    public TimeSpan? Window { get; set; }

    /// <summary>
    /// Several limits that all apply (e.g. 10 per second and 1000 per hour). A request is admitted only if every
    /// limit admits it; a request rejected by one limit still counts against the limits that admitted it, so the
    /// combination never admits more than any single limit allows.
    /// </summary>
    public List<RateLimitOptions>? Limits { get; set; }

    /// <summary><c>ClientIp</c> (default), <c>Route+ClientIp</c> or <c>Header:&lt;name&gt;</c>.</summary>
    public string PartitionBy { get; set; } = "ClientIp";

    /// <summary><c>Enforce</c> (default) rejects; <c>Shadow</c> counts and reports but never rejects.</summary>
    public RateLimitMode Mode { get; set; } = RateLimitMode.Enforce;

    /// <summary>
    /// Whether a node may count permits ahead for a busy client while the window is at or below half its limit, and
    /// admit the client's next requests from them for up to 20 ms without a Redis call (default <c>true</c>).
    /// <c>false</c> counts every request by a call, at the price of about one Redis call per request under load.
    /// </summary>
    public bool ReserveAhead { get; set; } = true;
}

/// <summary>One limit inside a policy's <c>Limits</c> list.</summary>
public sealed class RateLimitOptions
{
    /// <summary>Name shown in the <c>RateLimit</c> headers; default <c>&lt;policy&gt;-&lt;window in seconds&gt;s</c>.</summary>
    public string? Name { get; set; }

    /// <summary>Requests admitted per <see cref="Window"/>.</summary>
    public int PermitLimit { get; set; }

    /// <summary>Length of the sliding window, at least one second.</summary>
    public TimeSpan Window { get; set; }
}

public enum RateLimitMode
{
    Enforce,
    Shadow,
}

public enum StoreUnavailableBehavior
{
    /// <summary>Each node limits on its own with the same policy until Redis is back.</summary>
    FallbackToLocal,

    /// <summary>Admit everything until Redis is back.</summary>
    Allow,

    /// <summary>Refuse limited routes with 503 until Redis is back.</summary>
    Reject,
}
