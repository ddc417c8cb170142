using Npgsql;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>
/// A PostgreSQL cluster of this test's own (data under <c>.local/test-pg-*</c>, a free port), so a test can stop and
/// start it without touching the shared server other tests use.
/// </summary>
public sealed class SecondPostgres : IAsyncDisposable
{
    private readonly string _directory;
    private readonly int _port;

    private SecondPostgres(string directory, int port)
    {
        _directory = directory;
        _port = port;
    }

    private string Data => Path.Combine(_directory, "data");

    private string Socket => Path.Combine(_directory, "run");

    private string LogFile => Path.Combine(_directory, "postgres.log");

    /// <summary>Database <c>audit</c> as superuser <c>postgres</c> (trust authentication on loopback).</summary>
    public string ConnectionString => $"Host=127.0.0.1;Port={_port};Username=postgres;Database=audit;Timeout=3;Command Timeout=10";

    public static async Task<SecondPostgres> StartAsync()
    {
        var directory = Path.Combine(TestEnvironment.LocalDirectory, $"test-pg-{Guid.NewGuid():N}"[..20]);
        var cluster = new SecondPostgres(directory, LocalPorts.Free());
        Directory.CreateDirectory(cluster.Socket);
        if (Environment.UserName == "root")
        {
            await ShellCommand.RunAsync("chown", ["-R", "postgres:postgres", directory]);
        }

        await ShellCommand.RunAsPostgresAsync("initdb", "-D", cluster.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions");
        await cluster.StartServerAsync();
        await using var connection = new NpgsqlConnection(TestEnvironment.WithDatabase(cluster.ConnectionString, "postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("CREATE DATABASE audit", connection);
        await command.ExecuteNonQueryAsync();
        return cluster;
    }

    public Task StartServerAsync()
        => ShellCommand.RunAsPostgresAsync("pg_ctl", "-D", Data, "-l", LogFile, "-w", "-t", "30", "start",
            "-o", $"-p {_port} -k {Socket} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=50");

    /// <summary>Stops the server the hard way (<c>immediate</c>: like a crash, in-flight transactions roll back).</summary>
    public Task StopServerAsync() => ShellCommand.RunAsPostgresAsync("pg_ctl", "-D", Data, "-m", "immediate", "-w", "stop");

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopServerAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a leftover directory under .local/ is harmless.
        }
    }
}
