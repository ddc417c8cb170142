using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// The built gateway (<c>dotnet MdvGateway.Gateway.dll</c>) as a child process, configured only by the test's values
/// (it runs in an empty directory of its own, so the shipped <c>appsettings.json</c> adds nothing), on free ports.
/// For what only a real process shows: signals, exit codes, the host's shutdown sequence.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly string _directory;
    private readonly StringBuilder _output = new();

    private GatewayProcess(Process process, string directory, string address, string adminAddress)
    {
        _process = process;
        _directory = directory;
        Address = address;
        AdminAddress = adminAddress;
    }

    public static string DllPath
        => Path.Combine(TestEnvironment.RepositoryRoot, "gateway", "MdvGateway.Gateway", "bin", TestEnvironment.BuildConfiguration, "net10.0", "MdvGateway.Gateway.dll");

    public string Address { get; }

    public string AdminAddress { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    public int ExitCode => _process.ExitCode;

    /// <summary>What the process wrote so far (for failure messages).</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    /// <summary>Starts the gateway with <paramref name="configuration"/> (its URLs replaced by free ports) and waits until it is ready.</summary>
    /// <param name="configuration">Configuration keys and values.</param>
    /// <param name="environment">Extra environment variables of the process (for instance to preload libfaketime).</param>
    public static async Task<GatewayProcess> StartAsync(IDictionary<string, string?> configuration, IDictionary<string, string>? environment = null)
    {
        Assert.True(File.Exists(DllPath), $"{DllPath} not found: build the solution ({TestEnvironment.BuildConfiguration}) first");
        var directory = Path.Combine(Path.GetTempPath(), "mdv-gateway-" + Guid.NewGuid().ToString("N")[..12]);
        Directory.CreateDirectory(directory);
        var address = "http://127.0.0.1:" + LocalPorts.Free().ToString(CultureInfo.InvariantCulture);
        var adminAddress = "http://127.0.0.1:" + LocalPorts.Free().ToString(CultureInfo.InvariantCulture);

        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = directory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(DllPath);
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[name] = value;
        }

        foreach (var (key, value) in configuration)
        {
            if (!key.Equals("urls", StringComparison.OrdinalIgnoreCase) && !key.Equals("Admin:Urls", StringComparison.OrdinalIgnoreCase))
            {
                start.ArgumentList.Add($"--{key}={value}");
            }
        }

        start.ArgumentList.Add("--urls=" + address);
        start.ArgumentList.Add("--Admin:Urls=" + adminAddress);

        var gateway = new GatewayProcess(Process.Start(start)!, directory, address, adminAddress);
        gateway._process.OutputDataReceived += (_, e) => gateway.Append(e.Data);
        gateway._process.ErrorDataReceived += (_, e) => gateway.Append(e.Data);
        gateway._process.BeginOutputReadLine();
        gateway._process.BeginErrorReadLine();

        var ready = await ProcessReadiness.WaitAsync(gateway._process, adminAddress);
        if (!ready)
        {
            await gateway.DisposeAsync();
            Assert.Fail($"the gateway process did not become ready:\n{gateway.Output}");
        }

        return gateway;
    }

    /// <summary>SIGTERM: what Kubernetes, systemd and <c>docker stop</c> send first.</summary>
    public Task TerminateAsync() => ProcessSignals.SendAsync(_process.Id, "TERM");

    /// <summary>Waits for the process to exit; false if it is still running after <paramref name="within"/>.</summary>
    public async Task<bool> WaitForExitAsync(TimeSpan within)
    {
        using var timeout = new CancellationTokenSource(within);
        try
        {
            await _process.WaitForExitAsync(timeout.Token);
            return true;
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }

        _process.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }
}
