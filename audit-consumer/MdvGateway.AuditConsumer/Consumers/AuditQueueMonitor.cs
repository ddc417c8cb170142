using MdvGateway.AuditConsumer.Configuration;
using MdvGateway.AuditConsumer.Diagnostics;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// Reads how many messages wait in <c>audit-events</c> and its error queue (a passive declare every
/// <see cref="PollInterval"/>) for the <c>mdv.audit.queue.*</c> gauges. The consumer's own instruments move only
/// when something is consumed; a consumer that is stuck, or gone, shows here as a queue that grows. The gauges are
/// absent while the broker cannot be asked, rather than showing a stale number.
/// </summary>
internal sealed partial class AuditQueueMonitor(
    IOptions<RabbitMqOptions> options,
    AuditMetrics metrics,
    TimeProvider timeProvider,
    ILogger<AuditQueueMonitor> logger) : BackgroundService
{
    /// <summary>How often the queues are read; a fraction of a usual Prometheus scrape interval.</summary>
    internal static readonly TimeSpan PollInterval = TimeSpan.FromSeconds(5);

    private static readonly string[] Queues = [AuditTopology.QueueName, AuditTopology.ErrorQueueName];

    private readonly RabbitMqOptions _rabbit = options.Value;
    private IConnection? _connection;
    private bool _failing;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(PollInterval, timeProvider);
        try
        {
            do
            {
                await PollOnceAsync(stoppingToken);
            }
            while (await timer.WaitForNextTickAsync(stoppingToken));
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    /// <summary>Reads every queue once and hands the numbers to the gauges (or withdraws them when the broker is away).</summary>
    internal async Task PollOnceAsync(CancellationToken cancellationToken)
    {
        try
        {
            var connection = await ConnectAsync(cancellationToken);
            var depths = new List<AuditQueueDepth>(Queues.Length);
            foreach (var queue in Queues)
            {
                depths.Add(await ReadAsync(connection, queue, cancellationToken));
            }

            metrics.QueuesObserved(depths);
            if (_failing)
            {
                _failing = false;
                Log.Recovered(logger);
            }
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            metrics.QueuesObserved([]);
            if (!_failing)
            {
                _failing = true;
                Log.Failed(logger, _rabbit.Host, _rabbit.Port, ex.GetType().Name, ex.Message);
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }
    }

    private async Task<IConnection> ConnectAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true })
        {
            return _connection;
        }

        if (_connection is not null)
        {
            await _connection.DisposeAsync();
            _connection = null;
        }

        var factory = new ConnectionFactory
        {
            HostName = _rabbit.Host,
            Port = _rabbit.Port,
            VirtualHost = _rabbit.VirtualHost,
            UserName = _rabbit.Username,
            Password = _rabbit.Password,
            RequestedConnectionTimeout = PollInterval,
            ContinuationTimeout = PollInterval,
            HandshakeContinuationTimeout = PollInterval,
            // Reconnecting is this loop's job: a failed poll drops the connection and the next one opens another.
            AutomaticRecoveryEnabled = false,
            ClientProvidedName = "mdv-audit-consumer queue monitor",
        };
        _connection = await factory.CreateConnectionAsync(cancellationToken);
        return _connection;
    }

    /// <summary>A passive declare: the queue's ready messages and consumers, without creating it. A queue that does not
    /// exist (the error queue before the first fault) holds nothing.</summary>
    private static async Task<AuditQueueDepth> ReadAsync(IConnection connection, string queue, CancellationToken cancellationToken)
    {
        // A channel per queue: RabbitMQ closes the channel on which a passive declare finds no queue.
        await using var channel = await connection.CreateChannelAsync(cancellationToken: cancellationToken);
        try
        {
            var declared = await channel.QueueDeclarePassiveAsync(queue, cancellationToken);
            return new AuditQueueDepth(queue, declared.MessageCount, declared.ConsumerCount);
        }
        catch (OperationInterruptedException ex) when (ex.ShutdownReason?.ReplyCode == Constants.NotFound)
        {
            return new AuditQueueDepth(queue, 0, 0);
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 11004, Level = LogLevel.Warning, Message = "Cannot read the audit queues' depth from RabbitMQ at {Host}:{Port} ({ErrorType}: {Error}); the mdv.audit.queue gauges are absent until it answers")]
        public static partial void Failed(ILogger logger, string host, int port, string errorType, string error);

        [LoggerMessage(EventId = 11005, Level = LogLevel.Information, Message = "Reading the audit queues' depth from RabbitMQ again")]
        public static partial void Recovered(ILogger logger);
    }
}
