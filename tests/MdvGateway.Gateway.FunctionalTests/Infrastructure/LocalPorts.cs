using System.Net;
using System.Net.Sockets;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>Loopback ports for the processes and servers a test starts of its own.</summary>
public static class LocalPorts
{
    /// <summary>A port nothing listens on right now (the system picks it; the caller binds it soon after).</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
