using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// A <c>redis-server</c> of one test's own (free loopback port, no persistence, its own directory), so that a test can
/// kill and restart it without touching the shared Redis every other test uses.
/// </summary>
public sealed class PrivateRedisServer : IAsyncDisposable
{
    private readonly string _directory;
    private Process? _process;

    private PrivateRedisServer(int port, string directory)
    {
        Port = port;
        _directory = directory;
    }

    public int Port { get; }

    /// <summary>The StackExchange.Redis endpoint of this server.</summary>
    public string Endpoint => "127.0.0.1:" + Port.ToString(CultureInfo.InvariantCulture);

    public bool IsRunning => _process is { HasExited: false };

    private Process RunningProcess => _process ?? throw new InvalidOperationException("redis-server is not running");

    public static async Task<PrivateRedisServer> StartAsync()
    {
        var directory = Path.Combine(Path.GetTempPath(), "mdv-redis-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var server = new PrivateRedisServer(LocalPorts.Free(), directory);
        await server.RestartAsync();
        return server;
    }

    /// <summary>Starts the server (again) on the same port, empty, and waits until it answers PING.</summary>
    public async Task RestartAsync()
    {
        Assert.False(IsRunning, "redis-server is already running");
        var start = new ProcessStartInfo("redis-server")
        {
            WorkingDirectory = _directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(CultureInfo.InvariantCulture), "--dir", _directory, "--save", string.Empty, "--appendonly", "no", "--protected-mode", "no" })
        {
            start.ArgumentList.Add(argument);
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!await PingAsync())
        {
            Assert.False(process.HasExited, $"redis-server on port {Port} exited with {(process.HasExited ? process.ExitCode : 0)}");
            Assert.True(DateTime.UtcNow < deadline, $"redis-server on port {Port} did not answer within 10 s");
            await Task.Delay(20);
        }
    }

    /// <summary>SIGKILL: no shutdown, sockets reset, everything in memory gone.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            process.Kill();
            await process.WaitForExitAsync();
            process.Dispose();
        }
    }

    /// <summary>
    /// SIGSTOP: the server keeps its connections open and answers nothing, what a hung or black-holed Redis looks like
    /// to a client (commands time out instead of failing fast). <see cref="ThawAsync"/> resumes it.
    /// </summary>
    public Task FreezeAsync() => ProcessSignals.SendAsync(RunningProcess.Id, "STOP");

    /// <summary>SIGCONT after <see cref="FreezeAsync"/>: the server answers again, with its data intact.</summary>
    public Task ThawAsync() => ProcessSignals.SendAsync(RunningProcess.Id, "CONT");

    /// <summary>A fresh connection to this server for the test's own checks.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync()
        => ConnectionMultiplexer.ConnectAsync(Endpoint + ",abortConnect=false,connectTimeout=2000");

    public async Task<bool> KeyExistsAsync(string key)
    {
        await using var redis = await ConnectAsync();
        return await redis.GetDatabase().KeyExistsAsync(key);
    }

    public async ValueTask DisposeAsync()
    {
        await KillAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private async Task<bool> PingAsync()
    {
        try
        {
            using var client = new TcpClient();
            await client.ConnectAsync(IPAddress.Loopback, Port);
            var stream = client.GetStream();
            await stream.WriteAsync("PING\r\n"u8.ToArray());
            var buffer = new byte[16];
            var read = await stream.ReadAsync(buffer).AsTask().WaitAsync(TimeSpan.FromSeconds(1));
            return read >= 5 && buffer.AsSpan(0, 5).SequenceEqual("+PONG"u8);
        }
        catch (Exception ex) when (ex is SocketException or IOException or TimeoutException)
        {
            return false;
        }
    }
}
