using Npgsql;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>Where the real services are (the variables <c>make test</c> exports; defaults match the local stack).</summary>
internal static class TestEnvironment
{
    public static string Postgres => Environment.GetEnvironmentVariable("MDV_TEST_PG") is { Length: > 0 } value
        ? value
        : "Host=127.0.0.1;Port=5432;Username=mdv;Password=mdv;Database=mdv_audit";

    public static ushort RabbitMqPort => ushort.TryParse(Environment.GetEnvironmentVariable("MDV_TEST_RABBITMQ_PORT"), out var port) ? port : (ushort)5672;

    /// <summary>The repository root (the folder holding MdvGateway.sln).</summary>
    public static string RepositoryRoot { get; } = FindRepositoryRoot();

    /// <summary>Where local service data lives (<c>.local/</c>, or <c>MDV_LOCAL_DIR</c>).</summary>
    public static string LocalDirectory => Environment.GetEnvironmentVariable("MDV_LOCAL_DIR") is { Length: > 0 } dir
        ? dir
        : Path.Combine(RepositoryRoot, ".local");

    public static string PostgresBin => Environment.GetEnvironmentVariable("MDV_PG_BIN") is { Length: > 0 } bin ? bin : "/usr/lib/postgresql/15/bin";

    public static string ConsumerDll => Path.Combine(AppContext.BaseDirectory, "MdvGateway.AuditConsumer.dll");

    /// <summary>A connection string for another database on the same server.</summary>
    public static string WithDatabase(string connectionString, string database)
        => new NpgsqlConnectionStringBuilder(connectionString) { Database = database }.ConnectionString;

    private static string FindRepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "MdvGateway.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("MdvGateway.sln not found above " + AppContext.BaseDirectory);
    }
}
