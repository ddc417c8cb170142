namespace MdvGateway.Gateway.Hosting;

/// <summary>
/// The <c>RequestTimeouts</c> section: how long one proxied request may take in all, through ASP.NET Core's request
/// timeouts. <see cref="Default"/> applies to every route; a route sets its own with YARP's standard route keys
/// <c>Timeout</c> (a duration) or <c>TimeoutPolicy</c> (a name from <see cref="Policies"/>, or <c>Disable</c>).
/// Read once at start.
/// </summary>
public sealed class RequestTimeoutsOptions
{
    public const string SectionName = "RequestTimeouts";

    /// <summary>The longest a request may take, from the end of its headers to the end of its answer. Default 60 s.</summary>
    public TimeSpan Default { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Named timeouts routes can refer to with <c>TimeoutPolicy</c>.</summary>
    public Dictionary<string, TimeSpan> Policies { get; set; } = new(StringComparer.OrdinalIgnoreCase);
}
