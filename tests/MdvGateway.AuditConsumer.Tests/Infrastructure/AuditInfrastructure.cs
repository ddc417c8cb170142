using MdvGateway.AuditConsumer.Consumers;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>
/// The real RabbitMQ and PostgreSQL, isolated for this test run: a RabbitMQ virtual host of its own (so these tests
/// neither see nor feed the queues of other test projects running at the same time) and a throwaway database per test.
/// </summary>
public sealed class AuditInfrastructure : IAsyncLifetime
{
    public string VirtualHost { get; } = $"mdv-audit-tests-{Guid.NewGuid():N}";

    public static ushort RabbitMqPort => TestEnvironment.RabbitMqPort;

    public async Task InitializeAsync()
    {
        await RabbitMqCtlAsync("add_vhost", VirtualHost);
        await RabbitMqCtlAsync("set_permissions", "-p", VirtualHost, "guest", ".*", ".*", ".*");
    }

    public async Task DisposeAsync() => await RabbitMqCtlAsync("delete_vhost", VirtualHost);

    /// <summary>Command-line configuration for a consumer using this run's broker and <paramref name="connectionString"/>.</summary>
    public string[] ConsumerArgs(string connectionString, params string[] extra) =>
    [
        $"--ConnectionStrings:AuditDb={connectionString}",
        $"--RabbitMq:Port={RabbitMqPort}",
        $"--RabbitMq:VirtualHost={VirtualHost}",
        "--Serilog:MinimumLevel:Default=Warning",
        "--Audit:RetryMaxDelay=00:00:01",
        .. extra,
    ];

    public static async Task<TestDatabase> CreateDatabaseAsync(bool migrated = true)
    {
        var database = await TestDatabase.CreateAsync(TestEnvironment.Postgres);
        if (migrated)
        {
            await new MdvGateway.AuditConsumer.Persistence.SchemaMigrator(database.ConnectionString).MigrateAsync(null, CancellationToken.None);
        }

        return database;
    }

    public async Task<IConnection> ConnectAsync()
    {
        var factory = new ConnectionFactory
        {
            HostName = "127.0.0.1",
            Port = RabbitMqPort,
            VirtualHost = VirtualHost,
            UserName = "guest",
            Password = "guest",
        };
        return await factory.CreateConnectionAsync();
    }

    /// <summary>Messages in a queue (0 when it does not exist yet).</summary>
    public async Task<uint> MessageCountAsync(string queue)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException)
        {
            return 0;
        }
    }

    /// <summary>Empties the audit queue and its error queue, so a test starts clean.</summary>
    public async Task PurgeAsync()
    {
        foreach (var queue in new[] { AuditTopology.QueueName, AuditTopology.ErrorQueueName })
        {
            await using var connection = await ConnectAsync();
            await using var channel = await connection.CreateChannelAsync();
            try
            {
                await channel.QueuePurgeAsync(queue);
            }
            catch (OperationInterruptedException)
            {
                // Not declared yet.
            }
        }
    }

    /// <summary>The fault reasons MassTransit wrote on every message of the error queue (the messages stay there).</summary>
    public async Task<IReadOnlyList<string>> ErrorQueueFaultsAsync()
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        var faults = new List<string>();
        while (await channel.BasicGetAsync(AuditTopology.ErrorQueueName, autoAck: false) is { } message)
        {
            var header = message.BasicProperties.Headers?.TryGetValue("MT-Fault-Message", out var value) == true ? value : null;
            faults.Add(header is byte[] bytes ? System.Text.Encoding.UTF8.GetString(bytes) : header?.ToString() ?? "");
        }

        return faults;
    }

    private static Task<string> RabbitMqCtlAsync(params string[] arguments)
        => ShellCommand.RunAsync("bash",
        [
            "-c",
            ". \"$1\" && mdv_rabbitmq_env && shift && \"$MDV_RABBITMQ_BIN/rabbitmqctl\" -q -n rabbit@localhost \"$@\"",
            "rabbitmqctl",
            Path.Combine(TestEnvironment.RepositoryRoot, "deploy", "local", "env.sh"),
            .. arguments,
        ]);
}
