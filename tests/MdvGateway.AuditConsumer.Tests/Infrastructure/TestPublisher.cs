using MassTransit;
using MdvGateway.Contracts;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>A publisher of its own, as the gateway is: a separate MassTransit bus on the test run's virtual host.</summary>
public sealed class TestPublisher : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private TestPublisher(IBusControl bus) => _bus = bus;

    public static async Task<TestPublisher> StartAsync(AuditInfrastructure infrastructure)
    {
        var bus = Bus.Factory.CreateUsingRabbitMq(rabbit =>
            rabbit.Host("127.0.0.1", AuditInfrastructure.RabbitMqPort, infrastructure.VirtualHost, host =>
            {
                host.Username("guest");
                host.Password("guest");
            }));
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await bus.StartAsync(timeout.Token);
        return new TestPublisher(bus);
    }

    /// <summary>Publishes with publisher confirms, a few hundred at a time.</summary>
    public async Task PublishAsync(IEnumerable<AuditEventRecorded> events)
    {
        foreach (var chunk in events.Chunk(250))
        {
            await Task.WhenAll(chunk.Select(e => _bus.Publish(e)));
        }
    }

    public Task PublishAsync(params AuditEventRecorded[] events) => PublishAsync((IEnumerable<AuditEventRecorded>)events);

    /// <summary>Publishes <paramref name="events"/> as one <see cref="AuditEventsRecorded"/> message, with a publisher confirm.</summary>
    public Task PublishBatchAsync(IEnumerable<AuditEventRecorded> events)
        => _bus.Publish(new AuditEventsRecorded(Guid.NewGuid(), DateTimeOffset.UtcNow, [.. events]));

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}
