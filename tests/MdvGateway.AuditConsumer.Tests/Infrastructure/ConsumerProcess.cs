using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>The consumer started the way operators start it: <c>dotnet MdvGateway.AuditConsumer.dll</c>, its own process.</summary>
public sealed class ConsumerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _output;

    private ConsumerProcess(Process process, ConcurrentQueue<string> output, int port)
    {
        _process = process;
        _output = output;
        Client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromSeconds(10) };
    }

    public HttpClient Client { get; }

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>The last lines the process wrote (for failure messages).</summary>
    public string Output => string.Join('\n', _output.TakeLast(40));

    /// <summary>Starts the consumer with <paramref name="args"/> and waits until <c>/health/live</c> answers.</summary>
    public static async Task<ConsumerProcess> StartAsync(params string[] args)
    {
        var consumer = Launch(args, out var port);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            try
            {
                using var live = await consumer.Client.GetAsync("/health/live");
                if (live.IsSuccessStatusCode)
                {
                    return consumer;
                }
            }
            catch (HttpRequestException) when (DateTime.UtcNow < deadline && !consumer.HasExited)
            {
                // Not listening yet.
            }

            if (DateTime.UtcNow >= deadline || consumer.HasExited)
            {
                var output = consumer.Output;
                await consumer.DisposeAsync();
                throw new InvalidOperationException($"The consumer did not become live within 30 s:\n{output}");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>Runs the consumer (or one of its verbs) to completion; standard output and error kept whole and apart.</summary>
    public static async Task<(int ExitCode, string StdOut, string StdErr)> RunToExitAsync(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(TestEnvironment.ConsumerDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        return (process.ExitCode, await stdout, await stderr);
    }

    /// <summary>Waits until <c>/health/ready</c> answers 200.</summary>
    public Task WaitUntilReadyAsync(TimeSpan? timeout = null)
        => Eventually.TrueAsync(async () => (await ReadyAsync()).Status == HttpStatusCode.OK, timeout ?? TimeSpan.FromSeconds(30),
            "the consumer to become ready", async () => (await ReadyAsync()).Body + "\n" + Output);

    public async Task<(HttpStatusCode Status, string Body)> ReadyAsync()
    {
        try
        {
            using var response = await Client.GetAsync("/health/ready");
            return (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        catch (HttpRequestException ex)
        {
            return (0, ex.Message);
        }
    }

    /// <summary>SIGTERM, as a service manager stops it; waits for the process to exit.</summary>
    public async Task StopAsync(TimeSpan timeout)
    {
        await ShellCommand.RunAsync("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        using var cancel = new CancellationTokenSource(timeout);
        await _process.WaitForExitAsync(cancel.Token);
    }

    /// <summary>SIGKILL: no shutdown, no acknowledgement, nothing flushed.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync();
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

    private static ConsumerProcess Launch(string[] args, out int port)
    {
        port = LocalPorts.Free();
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = AppContext.BaseDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add(TestEnvironment.ConsumerDll);
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        start.ArgumentList.Add($"--Urls=http://127.0.0.1:{port}");
        start.Environment["DOTNET_NOLOGO"] = "1";
        var output = new ConcurrentQueue<string>();
        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, e) => Keep(output, e.Data);
        process.ErrorDataReceived += (_, e) => Keep(output, e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return new ConsumerProcess(process, output, port);
    }

    private static void Keep(ConcurrentQueue<string> output, string? line)
    {
        if (line is null)
        {
            return;
        }

        output.Enqueue(line);
        while (output.Count > 400 && output.TryDequeue(out _))
        {
        }
    }
}
