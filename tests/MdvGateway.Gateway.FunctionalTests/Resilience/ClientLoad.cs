using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Resilience;

/// <summary>How a request ended when no HTTP response came back.</summary>
public enum RequestFailure
{
    /// <summary>A response arrived (whatever its status).</summary>
    None,

    /// <summary>The TCP connection was refused: nothing listened any more, so the server never saw the request.</summary>
    Refused,

    /// <summary>The connection closed or reset before a response (e.g. an idle keep-alive connection closed at shutdown).</summary>
    Closed,

    /// <summary>Anything else (client timeout, protocol error): never expected.</summary>
    Other,
}

/// <summary>One request of a load run, timed by the client.</summary>
public sealed record LoadRecord(string Client, string Id, string Phase, long StartedAt, TimeSpan Duration, HttpStatusCode? Status, RequestFailure Failure, string? Error);

/// <summary>
/// Steady concurrent load from several client addresses (each its own connection pool bound to that address), every
/// request timed and recorded with the phase it started in and an <c>X-Load-Id</c> the upstream records, so a test can
/// match what the upstream received with what the client got back.
/// </summary>
public sealed class ClientLoad : IAsyncDisposable
{
    public const string IdHeader = "X-Load-Id";

    private readonly ConcurrentQueue<LoadRecord> _records = new();
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(string Address, HttpClient Client)> _clients = [];
    private readonly List<Task> _workers = [];
    private readonly string _path;
    private readonly TimeSpan _pause;
    private readonly int _workersPerClient;
    private volatile string _phase = string.Empty;

    /// <param name="baseAddress">The gateway's public address.</param>
    /// <param name="clientAddresses">Loopback addresses the requests come from.</param>
    /// <param name="workersPerClient">Concurrent request loops per address.</param>
    /// <param name="path">The path every request GETs.</param>
    /// <param name="pause">A pause between one worker's requests, to keep the load modest on a shared machine.</param>
    public ClientLoad(string baseAddress, IEnumerable<string> clientAddresses, int workersPerClient, string path, TimeSpan pause)
    {
        _path = path;
        _pause = pause;
        _workersPerClient = workersPerClient;
        foreach (var address in clientAddresses)
        {
            _clients.Add((address, TestClients.From(address, baseAddress, maxConnections: workersPerClient)));
        }
    }

    /// <summary>Starts the workers; their requests are recorded under <paramref name="phase"/> until it changes.</summary>
    public void Start(string phase)
    {
        Assert.Empty(_workers);
        _phase = phase;
        foreach (var (address, client) in _clients)
        {
            for (var i = 0; i < _workersPerClient; i++)
            {
                _workers.Add(Task.Run(() => WorkAsync(address, client, _path, _pause)));
            }
        }
    }

    /// <summary>The label recorded with each request started from now on.</summary>
    public string Phase
    {
        get => _phase;
        set => _phase = value;
    }

    public IReadOnlyCollection<LoadRecord> Records => _records;

    public async Task StopAsync()
    {
        await _stop.CancelAsync();
        await Task.WhenAll(_workers);
    }

    public async ValueTask DisposeAsync()
    {
        await StopAsync();
        _clients.ForEach(c => c.Client.Dispose());
        _stop.Dispose();
    }

    /// <summary>A one-line summary of statuses and failures per phase, for assertion messages.</summary>
    public string Summary()
        => string.Join("; ", _records.GroupBy(r => r.Phase).Select(phase => phase.Key + ": " + string.Join(", ",
            phase.GroupBy(r => r.Status is { } s ? ((int)s).ToString(System.Globalization.CultureInfo.InvariantCulture) : r.Failure.ToString())
                .OrderBy(g => g.Key, StringComparer.Ordinal)
                .Select(g => $"{g.Key}×{g.Count()}"))));

    private async Task WorkAsync(string address, HttpClient client, string path, TimeSpan pause)
    {
        while (!_stop.IsCancellationRequested)
        {
            var id = Guid.NewGuid().ToString("N");
            var phase = _phase;
            var started = Stopwatch.GetTimestamp();
            HttpStatusCode? status = null;
            var failure = RequestFailure.None;
            string? error = null;
            try
            {
                using var request = new HttpRequestMessage(HttpMethod.Get, path);
                request.Headers.Add(IdHeader, id);
                // Not cancelled by Stop: a request once sent is always seen through, so none is recorded half-way.
                using var response = await client.SendAsync(request, HttpCompletionOption.ResponseContentRead);
                status = response.StatusCode;
            }
            catch (HttpRequestException ex)
            {
                failure = Classify(ex);
                error = ex.HttpRequestError + ": " + ex.Message;
            }
            catch (TaskCanceledException ex)
            {
                failure = RequestFailure.Other;
                error = ex.Message;
            }

            _records.Enqueue(new LoadRecord(address, id, phase, started, Stopwatch.GetElapsedTime(started), status, failure, error));
            try
            {
                await Task.Delay(pause, _stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static RequestFailure Classify(HttpRequestException ex)
    {
        if (ex.InnerException is SocketException { SocketErrorCode: SocketError.ConnectionRefused })
        {
            return RequestFailure.Refused;
        }

        return ex.HttpRequestError is HttpRequestError.ResponseEnded or HttpRequestError.ConnectionError
               || ex.InnerException is IOException
            ? RequestFailure.Closed
            : RequestFailure.Other;
    }
}
