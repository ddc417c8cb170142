using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace MdvGateway.AuditConsumer.Tests;

/// <summary>The consumer process itself, started the way operators start it, against the real PostgreSQL.</summary>
public sealed class HostHealthTests
{
    private static string Postgres => Environment.GetEnvironmentVariable("MDV_TEST_PG") is { Length: > 0 } value
        ? value
        : "Host=127.0.0.1;Port=5432;Username=mdv;Password=mdv;Database=mdv_audit";

    [Fact]
    public async Task Ready_WithReachablePostgres_Is200()
    {
        await using var consumer = await ConsumerProcess.StartAsync(Postgres);

        using var ready = await consumer.Client.GetAsync("/health/ready");

        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        Assert.Contains("\"postgres\":\"connected\"", await ready.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ready_WithUnreachablePostgres_Is503ButLiveIs200()
    {
        // Port 9 (discard) has no PostgreSQL behind it on any test machine.
        await using var consumer = await ConsumerProcess.StartAsync("Host=127.0.0.1;Port=9;Username=mdv;Password=mdv;Database=mdv_audit;Timeout=2");

        using var ready = await consumer.Client.GetAsync("/health/ready");
        using var live = await consumer.Client.GetAsync("/health/live");

        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    private sealed class ConsumerProcess : IAsyncDisposable
    {
        private readonly Process _process;

        private ConsumerProcess(Process process, HttpClient client)
        {
            _process = process;
            Client = client;
        }

        public HttpClient Client { get; }

        public static async Task<ConsumerProcess> StartAsync(string connectionString)
        {
            var port = FreePort();
            var dll = Path.Combine(AppContext.BaseDirectory, "MdvGateway.AuditConsumer.dll");
            var start = new ProcessStartInfo("dotnet") { WorkingDirectory = AppContext.BaseDirectory, RedirectStandardOutput = true, RedirectStandardError = true };
            start.ArgumentList.Add(dll);
            start.ArgumentList.Add("--urls");
            start.ArgumentList.Add($"http://127.0.0.1:{port}");
            start.Environment["ConnectionStrings__AuditDb"] = connectionString;
            var process = Process.Start(start)!;
            process.OutputDataReceived += (_, _) => { };
            process.ErrorDataReceived += (_, _) => { };
            process.BeginOutputReadLine();
            process.BeginErrorReadLine();

            var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                try
                {
                    using var live = await client.GetAsync("/health/live");
                    if (live.IsSuccessStatusCode)
                    {
                        return new ConsumerProcess(process, client);
                    }
                }
                catch (HttpRequestException) when (DateTime.UtcNow < deadline && !process.HasExited)
                {
                    // Not listening yet.
                }

                if (DateTime.UtcNow >= deadline || process.HasExited)
                {
                    throw new InvalidOperationException("The consumer did not become live within 30 s");
                }

                await Task.Delay(100);
            }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }

        public async ValueTask DisposeAsync()
        {
            Client.Dispose();
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                await _process.WaitForExitAsync();
            }

            _process.Dispose();
        }
    }
}
