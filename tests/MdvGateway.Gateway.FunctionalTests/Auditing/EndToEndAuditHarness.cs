using System.Diagnostics;
using System.Globalization;
using System.Text;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Npgsql;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

/// <summary>
/// A PostgreSQL database of one test's own (<c>e2e_&lt;guid&gt;</c>) on the server of <c>make services-up</c>
/// (base connection string from <c>MDV_TEST_PG</c>); dropped on dispose.
/// </summary>
internal sealed class EndToEndAuditDatabase : IAsyncDisposable
{
    private readonly string _baseConnectionString;

    private EndToEndAuditDatabase(string baseConnectionString, string name)
    {
        _baseConnectionString = baseConnectionString;
        Name = name;
        ConnectionString = new NpgsqlConnectionStringBuilder(baseConnectionString) { Database = name, Pooling = false }.ConnectionString;
    }

    public string Name { get; }

    public string ConnectionString { get; }

    private static string BaseConnectionString
        => Environment.GetEnvironmentVariable("MDV_TEST_PG") is { Length: > 0 } value
            ? value
            : "Host=127.0.0.1;Port=5432;Username=mdv;Password=mdv;Database=mdv_audit";

    public static async Task<EndToEndAuditDatabase> CreateAsync()
    {
        var database = new EndToEndAuditDatabase(BaseConnectionString, "e2e_" + Guid.NewGuid().ToString("N"));
        await database.ExecuteOnServerAsync($"CREATE DATABASE {database.Name}");
        return database;
    }

    /// <summary>SUM((details->>'count')::bigint) over the rows of <paramref name="eventType"/>.</summary>
    public Task<long> SumOfCountsAsync(string eventType)
        => ScalarAsync("SELECT COALESCE(SUM((details->>'count')::bigint), 0) FROM audit_logs WHERE event_type = @t", eventType);

    public Task<long> RowsAsync(string eventType)
        => ScalarAsync("SELECT COUNT(*) FROM audit_logs WHERE event_type = @t", eventType);

    public Task<long> AllRowsAsync() => ScalarAsync("SELECT COUNT(*) FROM audit_logs", null);

    /// <summary>How many event ids are stored more than once.</summary>
    public Task<long> DuplicatedEventIdsAsync()
        => ScalarAsync("SELECT COUNT(*) FROM (SELECT event_id FROM audit_logs GROUP BY event_id HAVING COUNT(*) > 1) d", null);

    private async Task<long> ScalarAsync(string sql, string? eventType)
    {
        await using var connection = new NpgsqlConnection(ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        if (eventType is not null)
        {
            command.Parameters.AddWithValue("t", eventType);
        }

        return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
    }

    private async Task ExecuteOnServerAsync(string sql)
    {
        var builder = new NpgsqlConnectionStringBuilder(_baseConnectionString) { Pooling = false };
        await using var connection = new NpgsqlConnection(builder.ConnectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await ExecuteOnServerAsync($"DROP DATABASE IF EXISTS {Name} WITH (FORCE)");
        }
        catch (NpgsqlException)
        {
            // Best effort: a leftover e2e_ database harms no other test.
        }
    }
}

/// <summary>
/// The real audit consumer (<c>audit-consumer/MdvGateway.AuditConsumer</c>, as built by the solution) as a child
/// process, against a test's database and virtual host.
/// </summary>
internal sealed class EndToEndConsumerProcess : IAsyncDisposable
{
    private readonly string _connectionString;
    private readonly string _virtualHost;
    private readonly StringBuilder _output = new();
    private Process? _process;

    public EndToEndConsumerProcess(string connectionString, string virtualHost)
    {
        _connectionString = connectionString;
        _virtualHost = virtualHost;
    }

    public static string DllPath
        => Path.Combine(
            TestEnvironment.RepositoryRoot,
            "audit-consumer",
            "MdvGateway.AuditConsumer",
            "bin",
            TestEnvironment.BuildConfiguration,
            "net10.0",
            "MdvGateway.AuditConsumer.dll");

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

    /// <summary><c>dotnet MdvGateway.AuditConsumer.dll migrate</c>: creates <c>audit_logs</c>.</summary>
    public async Task MigrateAsync()
    {
        using var process = Process.Start(StartInfo("migrate"))!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        Assert.True(process.ExitCode == 0, $"migrate exited {process.ExitCode}:\n{Output}");
    }

    /// <summary>Starts the service and waits until <c>/health/ready</c> answers 200.</summary>
    public async Task StartAsync()
    {
        Assert.Null(_process);
        var port = LocalPorts.Free();
        var process = Process.Start(StartInfo("--urls", $"http://127.0.0.1:{port}"))!;
        process.OutputDataReceived += (_, e) => Append(e.Data);
        process.ErrorDataReceived += (_, e) => Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        _process = process;

        var ready = await ProcessReadiness.WaitAsync(process, $"http://127.0.0.1:{port}");
        Assert.True(ready, $"the audit consumer did not become ready:\n{Output}");
    }

    /// <summary>SIGKILL: no graceful stop, no last acknowledgements.</summary>
    public async Task KillAsync()
    {
        if (_process is { } process)
        {
            _process = null;
            try
            {
                process.Kill(entireProcessTree: true);
                await process.WaitForExitAsync();
            }
            catch (InvalidOperationException)
            {
                // Already gone.
            }
            finally
            {
                process.Dispose();
            }
        }
    }

    public async ValueTask DisposeAsync() => await KillAsync();

    private ProcessStartInfo StartInfo(params string[] arguments)
    {
        var dll = DllPath;
        Assert.True(File.Exists(dll), $"{dll} not found: build the solution ({TestEnvironment.BuildConfiguration}) first");
        var start = new ProcessStartInfo("dotnet")
        {
            WorkingDirectory = Path.GetDirectoryName(dll)!,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(dll);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        start.Environment["ConnectionStrings__AuditDb"] = _connectionString;
        start.Environment["RabbitMq__Host"] = "127.0.0.1";
        start.Environment["RabbitMq__Port"] = RabbitMqTestBroker.Port.ToString(CultureInfo.InvariantCulture);
        start.Environment["RabbitMq__VirtualHost"] = _virtualHost;
        start.Environment["RabbitMq__Username"] = RabbitMqTestBroker.Username;
        start.Environment["RabbitMq__Password"] = RabbitMqTestBroker.Password;
        start.Environment["Audit__MigrateOnStart"] = "false";
        start.Environment["Serilog__MinimumLevel__Default"] = "Warning";
        return start;
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.AppendLine(line);
        }
    }
}
