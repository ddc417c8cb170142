using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace MdvGateway.Gateway.Hosting;

/// <summary>
/// The public listener's limits: the standard <c>Kestrel:Limits</c> keys, with defaults chosen for a listener that faces
/// the internet rather than Kestrel's own (which let an idle connection live 130 s and a header trickle 30 s). Bound
/// and checked like every other section, then applied to <see cref="KestrelServerLimits"/>.
/// </summary>
public sealed class ListenerLimitsOptions
{
    public const string SectionName = "Kestrel:Limits";

    /// <summary>How long an idle keep-alive connection stays open. Default 15 s (Kestrel: 130 s). Behind a load balancer, set it above the balancer's idle timeout.</summary>
    public TimeSpan KeepAliveTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>How long a client may take to send the request line and headers. Default 10 s (Kestrel: 30 s).</summary>
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Open connections the listener accepts at once; more are refused. Default 10,000 (Kestrel: unlimited).</summary>
    public long MaxConcurrentConnections { get; set; } = 10_000;

    /// <summary>Upgraded (WebSocket) connections at once. Default 1,000 (Kestrel: unlimited).</summary>
    public long MaxConcurrentUpgradedConnections { get; set; } = 1_000;

    /// <summary>The largest request body, in bytes; a route can set its own (<c>MaxRequestBodySize</c> on the route). Default 10 MiB (Kestrel: 30 MB).</summary>
    public long MaxRequestBodySize { get; set; } = 10 * 1024 * 1024;

    /// <summary>Request headers per request. Default 100 (Kestrel's).</summary>
    public int MaxRequestHeaderCount { get; set; } = 100;

    /// <summary>Bytes of all request headers together. Default 32 KiB (Kestrel's).</summary>
    public int MaxRequestHeadersTotalSize { get; set; } = 32 * 1024;

    /// <summary>Bytes of the request line. Default 8 KiB (Kestrel's).</summary>
    public int MaxRequestLineSize { get; set; } = 8 * 1024;

    /// <summary>The slowest a request body may arrive once its grace period is over. Default 240 B/s after 5 s (Kestrel's).</summary>
    public DataRateOptions MinRequestBodyDataRate { get; set; } = new();

    /// <summary>The slowest a client may read a response once its grace period is over. Default 240 B/s after 5 s (Kestrel's).</summary>
    public DataRateOptions MinResponseDataRate { get; set; } = new();

    /// <summary>HTTP/2 limits.</summary>
    public Http2LimitsOptions Http2 { get; set; } = new();

    /// <summary>Applies every limit to Kestrel's.</summary>
    public void ApplyTo(KestrelServerLimits limits)
    {
        limits.KeepAliveTimeout = KeepAliveTimeout;
        limits.RequestHeadersTimeout = RequestHeadersTimeout;
        limits.MaxConcurrentConnections = MaxConcurrentConnections;
        limits.MaxConcurrentUpgradedConnections = MaxConcurrentUpgradedConnections;
        limits.MaxRequestBodySize = MaxRequestBodySize;
        limits.MaxRequestHeaderCount = MaxRequestHeaderCount;
        limits.MaxRequestHeadersTotalSize = MaxRequestHeadersTotalSize;
        limits.MaxRequestLineSize = MaxRequestLineSize;
        limits.MinRequestBodyDataRate = new MinDataRate(MinRequestBodyDataRate.BytesPerSecond, MinRequestBodyDataRate.GracePeriod);
        limits.MinResponseDataRate = new MinDataRate(MinResponseDataRate.BytesPerSecond, MinResponseDataRate.GracePeriod);
        limits.Http2.MaxStreamsPerConnection = Http2.MaxStreamsPerConnection;
        limits.Http2.MaxRequestHeaderFieldSize = Http2.MaxRequestHeaderFieldSize;
        limits.Http2.InitialConnectionWindowSize = Http2.InitialConnectionWindowSize;
        limits.Http2.InitialStreamWindowSize = Http2.InitialStreamWindowSize;
        limits.Http2.KeepAlivePingDelay = Http2.KeepAlivePingDelay;
        limits.Http2.KeepAlivePingTimeout = Http2.KeepAlivePingTimeout;
    }
}

/// <summary>A minimum data rate: <see cref="BytesPerSecond"/> after <see cref="GracePeriod"/>.</summary>
public sealed class DataRateOptions
{
    public double BytesPerSecond { get; set; } = 240;

    public TimeSpan GracePeriod { get; set; } = TimeSpan.FromSeconds(5);
}

/// <summary>The HTTP/2 keys of <c>Kestrel:Limits:Http2</c>, with Kestrel's defaults unless said otherwise.</summary>
public sealed class Http2LimitsOptions
{
    /// <summary>Concurrent streams per connection. Default 100.</summary>
    public int MaxStreamsPerConnection { get; set; } = 100;

    /// <summary>Bytes of one decoded header field. Default 16 KiB.</summary>
    public int MaxRequestHeaderFieldSize { get; set; } = 16 * 1024;

    /// <summary>Request body bytes buffered per connection. Default 1 MiB.</summary>
    public int InitialConnectionWindowSize { get; set; } = 1024 * 1024;

    /// <summary>Request body bytes buffered per stream. Default 768 KiB.</summary>
    public int InitialStreamWindowSize { get; set; } = 768 * 1024;

    /// <summary>Idle time before the listener pings the client. Default 30 s (Kestrel: never).</summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a ping may go unanswered before the connection is closed. Default 20 s.</summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(20);
}
