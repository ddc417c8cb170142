using System.Net;
using System.Net.Sockets;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// HTTP clients whose connections really come from a given loopback address (Linux routes all of 127.0.0.0/8 to
/// loopback), so the gateway sees distinct clients without any forwarded header.
/// </summary>
public static class TestClients
{
    public static HttpClient From(string localAddress, string baseAddress, int maxConnections = 64)
    {
        var local = IPAddress.Parse(localAddress);
        var handler = new SocketsHttpHandler
        {
            MaxConnectionsPerServer = maxConnections,
            PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            ConnectCallback = async (context, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    socket.Bind(new IPEndPoint(local, 0));
                    await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
        };
        return new HttpClient(handler) { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>GETs <paramref name="path"/>, optionally claiming <paramref name="forwardedFor"/>, and returns only the status.</summary>
    public static async Task<HttpStatusCode> GetStatusAsync(this HttpClient client, string path, string? forwardedFor = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        if (forwardedFor is not null)
        {
            request.Headers.TryAddWithoutValidation("X-Forwarded-For", forwardedFor);
        }

        using var response = await client.SendAsync(request);
        return response.StatusCode;
    }
}
