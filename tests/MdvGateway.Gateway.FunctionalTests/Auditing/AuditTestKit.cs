using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

internal static class AuditTestKit
{
    /// <summary>Audit on, with a spool directory of this test's own (the lock allows one gateway per directory).</summary>
    public static GatewayConfig WithAudit(this GatewayConfig config, string spoolDirectory, int port, string virtualHost = "/")
        => config
            .Set("Audit:Enabled", "true")
            .Set("Audit:RabbitMq:Host", "127.0.0.1")
            .Set("Audit:RabbitMq:Port", port.ToString(System.Globalization.CultureInfo.InvariantCulture))
            .Set("Audit:RabbitMq:VirtualHost", virtualHost)
            .Set("Audit:RabbitMq:Username", RabbitMqTestBroker.Username)
            .Set("Audit:RabbitMq:Password", RabbitMqTestBroker.Password)
            .Set("Audit:SpoolDirectory", spoolDirectory)
            .Set("Audit:PublishTimeout", "00:00:02");

    /// <summary>A port where nothing listens: connections are refused at once.</summary>
    public const int RefusingPort = 1;

    public static string NewSpoolDirectory() => Path.Combine(Path.GetTempPath(), "mdv-audit-spool-" + Guid.NewGuid().ToString("N")[..12]);

    public static string[] SpoolSegments(string directory)
        => Directory.Exists(directory) ? Directory.GetFiles(directory, "audit-*.jsonl").Order(StringComparer.Ordinal).ToArray() : [];

    /// <summary>Every event in the spool's segment files, as the gateway wrote them.</summary>
    public static List<AuditEventRecorded> ReadSpool(string directory)
        => SpoolSegments(directory)
            .SelectMany(File.ReadLines)
            .Where(line => line.Length > 0)
            .Select(line => JsonSerializer.Deserialize<AuditEventRecorded>(line, JsonSerializerOptions.Web)!)
            .ToList();

    public static long Count(AuditEventRecorded e) => e.Details.GetProperty("count").GetInt64();

    public static long SumOfCounts(IEnumerable<AuditEventRecorded> events, string eventType, string? client = null)
        => events.Where(e => e.EventType == eventType && (client is null || e.ClientIp == client)).Sum(Count);

    /// <summary>Sends <paramref name="count"/> requests at once and returns their statuses.</summary>
    public static async Task<HttpStatusCode[]> BurstAsync(HttpClient client, string path, int count)
        => await Task.WhenAll(Enumerable.Range(0, count).Select(async _ =>
        {
            using var response = await client.GetAsync(path);
            return response.StatusCode;
        }));

    public static void DeleteDirectory(string directory)
    {
        try
        {
            Directory.Delete(directory, recursive: true);
        }
        catch (DirectoryNotFoundException)
        {
        }
    }
}

/// <summary>
/// A "broker" that accepts TCP connections and never says a word: what a hung or black-holed RabbitMQ looks like to a
/// client, the case where a publish would wait the longest.
/// </summary>
internal sealed class SilentBroker : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _accepted = [];
    private readonly CancellationTokenSource _stop = new();

    public SilentBroker()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections
    {
        get
        {
            lock (_accepted)
            {
                return _accepted.Count;
            }
        }
    }

    private async Task AcceptAsync()
    {
        try
        {
            while (true)
            {
                var socket = await _listener.AcceptSocketAsync(_stop.Token);
                lock (_accepted)
                {
                    _accepted.Add(socket);
                }
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
        {
        }
    }

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        lock (_accepted)
        {
            _accepted.ForEach(s => s.Dispose());
        }

        _stop.Dispose();
    }
}
