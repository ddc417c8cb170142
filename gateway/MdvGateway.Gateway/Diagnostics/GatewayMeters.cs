using System.Diagnostics.Metrics;

namespace MdvGateway.Gateway.Diagnostics;

/// <summary>Which meters the gateway exports besides its own, and whose instruments count as the gateway's.</summary>
internal static class GatewayMeters
{
    /// <summary>
    /// The platform's meters on the request path: ASP.NET Core hosting (<c>http.server.*</c>), Kestrel (connections,
    /// TLS handshakes, queued requests), routing (unmatched requests), diagnostics (unhandled exceptions), the outgoing
    /// HTTP client (YARP's upstream calls) and the runtime (GC, thread pool, CPU).
    /// </summary>
    public static readonly string[] PlatformMeterNames =
    [
        "Microsoft.AspNetCore.Hosting",
        "Microsoft.AspNetCore.Server.Kestrel",
        "Microsoft.AspNetCore.Routing",
        "Microsoft.AspNetCore.Diagnostics",
        "System.Net.Http",
        "System.Runtime",
    ];

    /// <summary>
    /// Whether <paramref name="instrument"/> belongs to the gateway whose container owns <paramref name="gatewayMeters"/>:
    /// its meter was created by that factory, or by no factory at all (a meter that exists once per process). A meter
    /// created by another container's factory (the admin listener's, or another gateway's in the same test process)
    /// is someone else's.
    /// </summary>
    public static bool IsGatewayInstrument(Instrument instrument, IMeterFactory gatewayMeters)
        => instrument.Meter.Scope is null || ReferenceEquals(instrument.Meter.Scope, gatewayMeters);
}
