using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Hosting;

/// <summary>
/// The public listener cuts idle and slow clients on time (Kestrel:Limits, set short here so the tests stay fast) and
/// refuses a body over the limit, while an ordinary client on a kept-alive connection never notices.
/// </summary>
public sealed class ListenerLimitsTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private static readonly TimeSpan Short = TimeSpan.FromSeconds(2);

    private GatewayConfig Config() => new GatewayConfig(fixture.Upstream.Address)
        .Route("open", "/open", "Disable")
        .Set("Kestrel:Limits:RequestHeadersTimeout", "00:00:02")
        .Set("Kestrel:Limits:KeepAliveTimeout", "00:00:02")
        .Set("Kestrel:Limits:MaxRequestBodySize", "1000");

    [Fact]
    public async Task HeaderTrickle_IsCut_AfterRequestHeadersTimeout()
    {
        await using var gateway = await GatewayProcess.StartAsync(Config().Values);
        using var socket = await ConnectAsync(gateway.Address);

        // A request line and one header, then a byte a second: never a complete header block.
        var clock = Stopwatch.StartNew();
        await socket.SendAsync(Encoding.ASCII.GetBytes("GET /open/trickle HTTP/1.1\r\nHost: x\r\n"));
        var closedAfter = await TrickleUntilClosedAsync(socket, TimeSpan.FromSeconds(20));

        Assert.True(closedAfter is not null, "the listener kept a header trickle open for 20 s");
        Assert.InRange(closedAfter!.Value, Short - TimeSpan.FromMilliseconds(200), Short + TimeSpan.FromSeconds(4));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(20));
    }

    [Fact]
    public async Task IdleKeepAliveConnection_IsClosed_AfterKeepAliveTimeout_ButServesWhileInUse()
    {
        await using var gateway = await GatewayProcess.StartAsync(Config().Values);
        using var socket = await ConnectAsync(gateway.Address);

        // In use: three requests on one connection, each within the timeout, all answered on it.
        for (var i = 0; i < 3; i++)
        {
            Assert.StartsWith("HTTP/1.1 200", await RequestAsync(socket, $"/open/keep-{i}"), StringComparison.Ordinal);
            await Task.Delay(TimeSpan.FromSeconds(1));
        }

        // Then idle: the listener closes it (a read returns 0) a little after the timeout.
        var idle = Stopwatch.StartNew();
        var buffer = new byte[256];
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var read = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token);

        Assert.Equal(0, read);
        Assert.InRange(idle.Elapsed, Short - TimeSpan.FromSeconds(1.2), Short + TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task BodyOverTheLimit_Is413_AndABodyWithinItIsProxied()
    {
        await using var gateway = await GatewayProcess.StartAsync(Config().Values);
        using var client = TestClients.From("127.0.78.1", gateway.Address);

        using var small = await client.PostAsync("/open/small", new ByteArrayContent(new byte[1000]));
        using var large = await client.PostAsync("/open/large", new ByteArrayContent(new byte[1001]));

        Assert.Equal(HttpStatusCode.OK, small.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, large.StatusCode);
        Assert.Equal("application/problem+json", large.Content.Headers.ContentType?.MediaType);
        Assert.Contains("\"limit\":1000", await large.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.DoesNotContain(fixture.Upstream.Requests, r => r.Path == "/open/large");
    }

    [Fact]
    public async Task RoutesOwnBodyLimit_IsEnforcedTheSameWay()
    {
        var config = Config().Route("tight", "/tight", "Disable").Set("ReverseProxy:Routes:tight:MaxRequestBodySize", "100");
        await using var gateway = await GatewayProcess.StartAsync(config.Values);
        using var client = TestClients.From("127.0.78.2", gateway.Address);

        using var within = await client.PostAsync("/tight/within", new ByteArrayContent(new byte[100]));
        using var over = await client.PostAsync("/tight/over", new ByteArrayContent(new byte[101]));
        using var elsewhere = await client.PostAsync("/open/elsewhere", new ByteArrayContent(new byte[500]));

        Assert.Equal(HttpStatusCode.OK, within.StatusCode);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, over.StatusCode);
        Assert.Contains("\"limit\":100", await over.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, elsewhere.StatusCode);
    }

    [Fact]
    public async Task BodyBelowTheMinimumDataRate_IsCut()
    {
        var config = Config()
            .Set("Kestrel:Limits:MaxRequestBodySize", "100000")
            .Set("Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond", "1000")
            .Set("Kestrel:Limits:MinRequestBodyDataRate:GracePeriod", "00:00:02");
        await using var gateway = await GatewayProcess.StartAsync(config.Values);
        using var socket = await ConnectAsync(gateway.Address);

        // 50,000 bytes announced, 10 bytes a second sent: far below 1,000 B/s once the 2 s grace period is over.
        await socket.SendAsync(Encoding.ASCII.GetBytes("POST /open/slow-body HTTP/1.1\r\nHost: x\r\nContent-Length: 50000\r\n\r\n"));
        var closedAfter = await TrickleUntilClosedAsync(socket, TimeSpan.FromSeconds(20));

        Assert.True(closedAfter is not null, "a body at 10 B/s was still accepted after 20 s");
        Assert.InRange(closedAfter!.Value, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
    }

    private static async Task<Socket> ConnectAsync(string address)
    {
        var uri = new Uri(address);
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(uri.Host, uri.Port);
        return socket;
    }

    private static async Task<string> RequestAsync(Socket socket, string path)
    {
        await socket.SendAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: x\r\n\r\n"));
        var buffer = new byte[16 * 1024];
        var answer = new StringBuilder();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (true)
        {
            var read = await socket.ReceiveAsync(buffer, SocketFlags.None, limit.Token);
            Assert.True(read > 0, $"the connection closed while {path} was answered");
            answer.Append(Encoding.ASCII.GetString(buffer, 0, read));
            var text = answer.ToString();
            var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
            if (end >= 0 && (ContentLength(text) is { } length ? text.Length >= end + 4 + length : text.EndsWith("0\r\n\r\n", StringComparison.Ordinal)))
            {
                return text;
            }
        }
    }

    private static int? ContentLength(string head)
    {
        foreach (var line in head.Split("\r\n"))
        {
            if (line.StartsWith("Content-Length:", StringComparison.OrdinalIgnoreCase))
            {
                return int.Parse(line["Content-Length:".Length..].Trim(), System.Globalization.CultureInfo.InvariantCulture);
            }
        }

        return null;
    }

    /// <summary>Sends one header byte a second until the peer closes; returns how long that took, or null at <paramref name="within"/>.</summary>
    private static async Task<TimeSpan?> TrickleUntilClosedAsync(Socket socket, TimeSpan within)
    {
        var clock = Stopwatch.StartNew();
        var buffer = new byte[1024];
        while (clock.Elapsed < within)
        {
            try
            {
                await socket.SendAsync("X"u8.ToArray());
            }
            catch (SocketException)
            {
                return clock.Elapsed;
            }

            using var tick = new CancellationTokenSource(TimeSpan.FromSeconds(1));
            try
            {
                var read = await socket.ReceiveAsync(buffer, SocketFlags.None, tick.Token);
                if (read == 0)
                {
                    return clock.Elapsed;
                }

                // Kestrel may answer 408 before it closes: that is the cut, too.
                return clock.Elapsed;
            }
            catch (OperationCanceledException)
            {
            }
            catch (SocketException)
            {
                return clock.Elapsed;
            }
        }

        return null;
    }
}
