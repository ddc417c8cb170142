namespace MdvGateway.Gateway.Hosting;

/// <summary>Checks <c>Kestrel:Limits</c> before Kestrel sees it, so a bad value is a start-up error naming the key.</summary>
internal static class ListenerLimitsOptionsValidator
{
    /// <summary>Kestrel checks the rates once a second: a grace period must be longer than that.</summary>
    private static readonly TimeSpan HeartbeatInterval = TimeSpan.FromSeconds(1);

    public static void Validate(ListenerLimitsOptions options, ICollection<string> problems)
    {
        const string s = ListenerLimitsOptions.SectionName;
        Duration(problems, $"{s}:KeepAliveTimeout", options.KeepAliveTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Duration(problems, $"{s}:RequestHeadersTimeout", options.RequestHeadersTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromMinutes(5));
        Range(problems, $"{s}:MaxConcurrentConnections", options.MaxConcurrentConnections, 1, 10_000_000);
        Range(problems, $"{s}:MaxConcurrentUpgradedConnections", options.MaxConcurrentUpgradedConnections, 0, 10_000_000);
        Range(problems, $"{s}:MaxRequestBodySize", options.MaxRequestBodySize, 0, 1L << 40);
        Range(problems, $"{s}:MaxRequestHeaderCount", options.MaxRequestHeaderCount, 1, 10_000);
        Range(problems, $"{s}:MaxRequestHeadersTotalSize", options.MaxRequestHeadersTotalSize, 1024, 1024 * 1024);
        Range(problems, $"{s}:MaxRequestLineSize", options.MaxRequestLineSize, 256, 1024 * 1024);
        Rate(problems, $"{s}:MinRequestBodyDataRate", options.MinRequestBodyDataRate);
        Rate(problems, $"{s}:MinResponseDataRate", options.MinResponseDataRate);

        var h2 = options.Http2;
        Range(problems, $"{s}:Http2:MaxStreamsPerConnection", h2.MaxStreamsPerConnection, 1, 10_000);
        Range(problems, $"{s}:Http2:MaxRequestHeaderFieldSize", h2.MaxRequestHeaderFieldSize, 1024, 1024 * 1024);

        // RFC 9113: a flow-control window is at most 2^31 - 1; Kestrel also refuses one below the default 64 KiB.
        Range(problems, $"{s}:Http2:InitialConnectionWindowSize", h2.InitialConnectionWindowSize, 65_535, int.MaxValue);
        Range(problems, $"{s}:Http2:InitialStreamWindowSize", h2.InitialStreamWindowSize, 65_535, int.MaxValue);
        Duration(problems, $"{s}:Http2:KeepAlivePingDelay", h2.KeepAlivePingDelay, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
        Duration(problems, $"{s}:Http2:KeepAlivePingTimeout", h2.KeepAlivePingTimeout, TimeSpan.FromSeconds(1), TimeSpan.FromHours(1));
    }

    private static void Rate(ICollection<string> problems, string path, DataRateOptions rate)
    {
        if (!double.IsFinite(rate.BytesPerSecond) || rate.BytesPerSecond is <= 0 or > 1e9)
        {
            problems.Add($"{path}:BytesPerSecond: {rate.BytesPerSecond} must be more than 0 and at most 1000000000");
        }

        if (rate.GracePeriod <= HeartbeatInterval || rate.GracePeriod > TimeSpan.FromMinutes(5))
        {
            problems.Add($"{path}:GracePeriod: {rate.GracePeriod} must be longer than 00:00:01 and at most 00:05:00");
        }
    }

    private static void Duration(ICollection<string> problems, string path, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{path}: {value} must be between {min} and {max}");
        }
    }

    private static void Range(ICollection<string> problems, string path, long value, long min, long max)
    {
        if (value < min || value > max)
        {
            problems.Add($"{path}: {value} must be between {min} and {max}");
        }
    }
}
