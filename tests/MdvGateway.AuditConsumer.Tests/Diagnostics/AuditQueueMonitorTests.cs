using System.Diagnostics.Metrics;
using MdvGateway.AuditConsumer.Configuration;
using MdvGateway.AuditConsumer.Consumers;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.AuditConsumer.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;

namespace MdvGateway.AuditConsumer.Tests.Diagnostics;

/// <summary>The queue-depth gauges against the real broker, with messages that no consumer takes.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class AuditQueueMonitorTests(AuditInfrastructure infrastructure) : IAsyncLifetime
{
    private readonly ServiceProvider _services = new ServiceCollection().AddMetrics().BuildServiceProvider();

    public Task InitializeAsync() => infrastructure.PurgeAsync();

    public async Task DisposeAsync()
    {
        // Not audit events: a consumer started later must not find them.
        await infrastructure.PurgeAsync();
        await _services.DisposeAsync();
    }

    [Fact]
    public async Task Poll_MessagesWaitingWithoutAConsumer_ReportsTheirNumberPerQueue()
    {
        await using (var connection = await infrastructure.ConnectAsync())
        await using (var channel = await connection.CreateChannelAsync())
        {
            await channel.QueueDeclareAsync(AuditTopology.QueueName, durable: true, exclusive: false, autoDelete: false);
            for (var i = 0; i < 4; i++)
            {
                await channel.BasicPublishAsync(string.Empty, AuditTopology.QueueName, "{}"u8.ToArray());
            }
        }

        await Eventually.TrueAsync(async () => await infrastructure.MessageCountAsync(AuditTopology.QueueName) == 4, TimeSpan.FromSeconds(10), "4 messages queued");
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var messages = new MetricCollector<long>(meters, AuditMetrics.MeterName, "mdv.audit.queue.messages");
        using var consumers = new MetricCollector<long>(meters, AuditMetrics.MeterName, "mdv.audit.queue.consumers");
        var metrics = new AuditMetrics(meters);
        var monitor = NewMonitor(metrics, infrastructure.VirtualHost);

        await monitor.PollOnceAsync(CancellationToken.None);
        await monitor.StopAsync(CancellationToken.None);
        messages.RecordObservableInstruments();
        consumers.RecordObservableInstruments();

        var depth = messages.GetMeasurementSnapshot().ToDictionary(m => (string)m.Tags["queue"]!, m => m.Value);
        Assert.Equal(4, depth[AuditTopology.QueueName]);
        Assert.Equal(0, depth[AuditTopology.ErrorQueueName]);
        Assert.All(consumers.GetMeasurementSnapshot(), m => Assert.Equal(0, m.Value));
    }

    [Fact]
    public async Task Poll_BrokerUnreachable_WithdrawsTheGauges()
    {
        var meters = _services.GetRequiredService<IMeterFactory>();
        using var messages = new MetricCollector<long>(meters, AuditMetrics.MeterName, "mdv.audit.queue.messages");
        var metrics = new AuditMetrics(meters);
        var reachable = NewMonitor(metrics, infrastructure.VirtualHost);
        await reachable.PollOnceAsync(CancellationToken.None);
        await reachable.StopAsync(CancellationToken.None);
        messages.RecordObservableInstruments();
        Assert.NotEmpty(messages.GetMeasurementSnapshot());

        var unreachable = NewMonitor(metrics, infrastructure.VirtualHost, port: 9);
        await unreachable.PollOnceAsync(CancellationToken.None);
        messages.Clear();
        messages.RecordObservableInstruments();

        Assert.Empty(messages.GetMeasurementSnapshot());
    }

    private static AuditQueueMonitor NewMonitor(AuditMetrics metrics, string virtualHost, ushort? port = null)
        => new(
            Options.Create(new RabbitMqOptions { Port = port ?? AuditInfrastructure.RabbitMqPort, VirtualHost = virtualHost }),
            metrics,
            TimeProvider.System,
            NullLogger<AuditQueueMonitor>.Instance);
}
