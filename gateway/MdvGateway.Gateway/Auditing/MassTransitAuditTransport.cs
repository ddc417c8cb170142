using MassTransit;
using MdvGateway.Contracts;
using RabbitMQ.Client;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// MassTransit 8 over RabbitMQ, durable and with publisher confirms. A bus of its own rather than one registered in
/// the gateway's container, so that MassTransit stays an implementation detail of this folder (a later move to another
/// client is a local change) and its lifetime is the publisher's to control.
/// </summary>
internal sealed partial class MassTransitAuditTransport : IAuditTransport
{
    private readonly AuditRabbitMqOptions _rabbit;
    private readonly TimeSpan _timeout;
    private readonly ILogger<MassTransitAuditTransport> _logger;
    private readonly IBusControl _bus;
    private readonly CancellationTokenSource _stopping = new();
    private Task _starting = Task.CompletedTask;

    public MassTransitAuditTransport(AuditOptions options, ILogger<MassTransitAuditTransport> logger)
    {
        _rabbit = options.RabbitMq;
        _timeout = options.PublishTimeout;
        _logger = logger;
        _bus = Bus.Factory.CreateUsingRabbitMq(cfg =>
        {
            cfg.Host(_rabbit.Host, (ushort)_rabbit.Port, _rabbit.VirtualHost, host =>
            {
                host.Username(_rabbit.Username);
                host.Password(_rabbit.Password);
                host.PublisherConfirmation = true;
                host.RequestedConnectionTimeout(_timeout);
                host.ConnectionName("mdv-gateway audit " + AuditEvents.NodeId);
            });
            cfg.Message<AuditEventRecorded>(m => m.SetEntityName(AuditTopology.ExchangeName));
            cfg.Message<AuditEventsRecorded>(m => m.SetEntityName(AuditTopology.BatchExchangeName));
            cfg.Publish<AuditEventRecorded>(p => DurableFanoutToQueue(p, AuditTopology.ExchangeName));
            cfg.Publish<AuditEventsRecorded>(p => DurableFanoutToQueue(p, AuditTopology.BatchExchangeName));
        });
    }

    private static void DurableFanoutToQueue<T>(IRabbitMqMessagePublishTopologyConfigurator<T> publish, string exchange)
        where T : class
    {
        publish.Durable = true;
        publish.AutoDelete = false;
        publish.ExchangeType = AuditTopology.ExchangeType;
        // MassTransit declares this whenever it opens a channel to publish on, so the queue is back even if the broker
        // lost it; DeclareTopologyAsync declares the same before the first publish.
        publish.BindQueue(exchange, AuditTopology.QueueName, queue =>
        {
            queue.Durable = true;
            queue.AutoDelete = false;
        });
    }

    public void Start()
    {
        Log.Starting(_logger, _rabbit.Host, _rabbit.Port, _rabbit.VirtualHost, _rabbit.Username);
        _starting = StartCoreAsync();
    }

    public async Task DeclareTopologyAsync(CancellationToken cancellationToken)
    {
        var factory = new ConnectionFactory
        {
            HostName = _rabbit.Host,
            Port = _rabbit.Port,
            VirtualHost = _rabbit.VirtualHost,
            UserName = _rabbit.Username,
            Password = _rabbit.Password,
            RequestedConnectionTimeout = _timeout,
            ContinuationTimeout = _timeout,
            HandshakeContinuationTimeout = _timeout,
            AutomaticRecoveryEnabled = false,
            ClientProvidedName = "mdv-gateway audit topology " + AuditEvents.NodeId,
        };
        await using var connection = await factory.CreateConnectionAsync(cancellationToken);
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        await channel.QueueDeclareAsync(AuditTopology.QueueName, durable: true, exclusive: false, autoDelete: false, cancellationToken: cancellationToken);
        foreach (var exchange in AuditTopology.Exchanges)
        {
            await channel.ExchangeDeclareAsync(exchange, AuditTopology.ExchangeType, durable: true, autoDelete: false, cancellationToken: cancellationToken);
            await channel.QueueBindAsync(AuditTopology.QueueName, exchange, routingKey: string.Empty, cancellationToken: cancellationToken);
        }
        await channel.CloseAsync(cancellationToken);
        await connection.CloseAsync(cancellationToken);
    }

    public Task PublishAsync(AuditEventRecorded auditEvent, CancellationToken cancellationToken)
        => _bus.Publish(auditEvent, cancellationToken);

    public Task PublishAsync(AuditEventsRecorded message, CancellationToken cancellationToken)
        => _bus.Publish(message, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        try
        {
            await _starting.WaitAsync(cancellationToken);
            await _bus.StopAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or MassTransitException or TimeoutException)
        {
            Log.StopFailed(_logger, ex.GetType().Name, ex.Message);
        }
    }

    public ValueTask DisposeAsync()
    {
        _stopping.Dispose();
        return ValueTask.CompletedTask;
    }

    private async Task StartCoreAsync()
    {
        try
        {
            // While the broker is away this keeps retrying until stopped; publishes meanwhile time out and are spooled.
            await _bus.StartAsync(_stopping.Token);
        }
        catch (OperationCanceledException) when (_stopping.IsCancellationRequested)
        {
        }
        catch (Exception ex)
        {
            // A broker refusing us (wrong credentials or virtual host) ends up here; publishes keep failing and are spooled.
            Log.StartFailed(_logger, _rabbit.Host, _rabbit.Port, _rabbit.VirtualHost, ex.GetType().Name, ex.Message);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 6201, Level = LogLevel.Information, Message = "Audit events go to RabbitMQ at {Host}:{Port}, virtual host {VirtualHost}, as {Username}")]
        public static partial void Starting(ILogger logger, string host, int port, string virtualHost, string username);

        [LoggerMessage(EventId = 6202, Level = LogLevel.Error, Message = "The audit bus to RabbitMQ at {Host}:{Port} (virtual host {VirtualHost}) did not start ({ErrorType}: {Error}); events are spooled")]
        public static partial void StartFailed(ILogger logger, string host, int port, string virtualHost, string errorType, string error);

        [LoggerMessage(EventId = 6203, Level = LogLevel.Warning, Message = "The audit bus did not stop cleanly ({ErrorType}: {Error})")]
        public static partial void StopFailed(ILogger logger, string errorType, string error);
    }
}
