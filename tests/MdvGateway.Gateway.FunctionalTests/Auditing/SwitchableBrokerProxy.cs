using System.Net;
using System.Net.Sockets;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

/// <summary>
/// A TCP relay to the real RabbitMQ that a test can cut and restore: cut closes every relayed connection and stops
/// listening (connections are refused), restore listens on the same port again. The broker "goes away and comes back"
/// for one gateway without touching the broker that other tests share.
/// </summary>
internal sealed class SwitchableBrokerProxy : IDisposable
{
    private readonly int _targetPort;
    private readonly List<Socket> _open = [];
    private TcpListener? _listener;
    private CancellationTokenSource? _accepting;

    public SwitchableBrokerProxy(int targetPort)
    {
        _targetPort = targetPort;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            Port = ((IPEndPoint)probe.LocalEndpoint).Port;
        }

        Restore();
    }

    public int Port { get; }

    public void Restore()
    {
        var listener = new TcpListener(IPAddress.Loopback, Port);
        listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        listener.Start();
        _listener = listener;
        _accepting = new CancellationTokenSource();
        _ = AcceptAsync(listener, _accepting.Token);
    }

    public void Cut()
    {
        _accepting?.Cancel();
        _listener?.Stop();
        _listener = null;
        lock (_open)
        {
            foreach (var socket in _open)
            {
                socket.Dispose();
            }

            _open.Clear();
        }
    }

    public void Dispose()
    {
        Cut();
        _accepting?.Dispose();
    }

    private async Task AcceptAsync(TcpListener listener, CancellationToken cancellationToken)
    {
        try
        {
            while (true)
            {
                var client = await listener.AcceptSocketAsync(cancellationToken);
                var upstream = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    await upstream.ConnectAsync(IPAddress.Loopback, _targetPort, cancellationToken);
                }
                catch (SocketException)
                {
                    client.Dispose();
                    upstream.Dispose();
                    continue;
                }

                lock (_open)
                {
                    _open.Add(client);
                    _open.Add(upstream);
                }

                _ = PumpAsync(client, upstream);
                _ = PumpAsync(upstream, client);
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    private static async Task PumpAsync(Socket from, Socket to)
    {
        var buffer = new byte[16 * 1024];
        try
        {
            while (true)
            {
                var read = await from.ReceiveAsync(buffer, SocketFlags.None);
                if (read == 0)
                {
                    break;
                }

                await to.SendAsync(buffer.AsMemory(0, read), SocketFlags.None);
            }
        }
        catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
        {
        }
        finally
        {
            from.Dispose();
            to.Dispose();
        }
    }
}
