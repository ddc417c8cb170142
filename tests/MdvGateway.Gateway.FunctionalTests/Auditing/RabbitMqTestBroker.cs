using System.Diagnostics;
using MdvGateway.Contracts;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MdvGateway.Gateway.FunctionalTests.Auditing;

/// <summary>
/// The real RabbitMQ of <c>make services-up</c> (port from <c>MDV_TEST_RABBITMQ_PORT</c>). Each test gets a virtual host
/// of its own, so it can read the real <c>audit-events</c> queue without taking messages from anyone else.
/// </summary>
internal static class RabbitMqTestBroker
{
    public const string Username = "guest";
    public const string Password = "guest";

    public static int Port => Environment.GetEnvironmentVariable("MDV_TEST_RABBITMQ_PORT") is { Length: > 0 } value ? int.Parse(value, System.Globalization.CultureInfo.InvariantCulture) : 5672;

    /// <summary>A new, empty virtual host the guest user may use; deleted (with its queues) on dispose.</summary>
    public static async Task<TestVirtualHost> CreateVirtualHostAsync()
    {
        var name = "mdv-audit-test-" + Guid.NewGuid().ToString("N")[..12];
        await RabbitMqCtlAsync("add_vhost", name);
        await RabbitMqCtlAsync("set_permissions", "-p", name, Username, ".*", ".*", ".*");
        return new TestVirtualHost(name);
    }

    /// <summary>rabbitmqctl against the local node, with the environment <c>deploy/local/env.sh</c> gives it.</summary>
    internal static async Task RabbitMqCtlAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo("bash")
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(". \"$0/deploy/local/env.sh\" && mdv_rabbitmq_env && exec \"$MDV_RABBITMQ_BIN/rabbitmqctl\" -n rabbit@localhost -q \"$@\"");
        start.ArgumentList.Add(TestEnvironment.RepositoryRoot);
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await process.WaitForExitAsync(timeout.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} exited {process.ExitCode}: {await stderr}{await stdout}");
        }
    }
}

internal sealed class TestVirtualHost : IAsyncDisposable
{
    public TestVirtualHost(string name) => Name = name;

    public string Name { get; }

    public async Task<IConnection> ConnectAsync()
    {
        var factory = new ConnectionFactory
        {
            HostName = "127.0.0.1",
            Port = RabbitMqTestBroker.Port,
            VirtualHost = Name,
            UserName = RabbitMqTestBroker.Username,
            Password = RabbitMqTestBroker.Password,
        };
        return await factory.CreateConnectionAsync();
    }

    /// <summary>How many messages wait in <paramref name="queue"/>, or null if it does not exist.</summary>
    public async Task<uint?> MessageCountAsync(string queue)
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        try
        {
            return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
        }
        catch (OperationInterruptedException)
        {
            return null;
        }
    }

    /// <summary>Takes one message from <paramref name="queue"/> as it is, or null when it is empty.</summary>
    public async Task<byte[]?> TakeRawAsync(string queue = "audit-events")
    {
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        return await channel.BasicGetAsync(queue, autoAck: true) is { } message ? message.Body.ToArray() : null;
    }

    /// <summary>Takes every message from <paramref name="queue"/>, of either contract, and returns the events they carry, in order.</summary>
    public async Task<List<AuditEventRecorded>> TakeAllAsync(string queue = "audit-events")
        => [.. (await TakeMessagesAsync(queue)).SelectMany(m => m.Events)];

    /// <summary>Takes every message from <paramref name="queue"/> and reads each as MassTransit's envelope of either audit contract.</summary>
    public async Task<List<AuditMessage>> TakeMessagesAsync(string queue = "audit-events")
    {
        var messages = new List<AuditMessage>();
        await using var connection = await ConnectAsync();
        await using var channel = await connection.CreateChannelAsync();
        while (await channel.BasicGetAsync(queue, autoAck: true) is { } message)
        {
            Assert.Equal("application/vnd.masstransit+json", message.BasicProperties.ContentType);
            Assert.Equal(DeliveryModes.Persistent, message.BasicProperties.DeliveryMode);
            messages.Add(AuditMessage.Read(message.Body));
        }

        return messages;
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await RabbitMqTestBroker.RabbitMqCtlAsync("delete_vhost", Name);
        }
        catch (InvalidOperationException)
        {
            // Best effort: an empty leftover virtual host harms nobody.
        }
    }
}
