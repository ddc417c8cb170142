using MassTransit;
using MdvGateway.AuditConsumer.Diagnostics;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// Counts messages MassTransit moves to the error queue before they reach the consumer (the body is not a readable
/// <c>AuditEventRecorded</c>): without this, only the broker's queue depth would show them.
/// </summary>
internal sealed partial class UnreadableMessageObserver(AuditMetrics metrics, ILogger<UnreadableMessageObserver> logger) : IReceiveObserver
{
    public Task PreReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostReceive(ReceiveContext context) => Task.CompletedTask;

    public Task PostConsume<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType)
        where T : class
        => Task.CompletedTask;

    public Task ConsumeFault<T>(ConsumeContext<T> context, TimeSpan duration, string consumerType, Exception exception)
        where T : class
        => Task.CompletedTask;

    public Task ReceiveFault(ReceiveContext context, Exception exception)
    {
        // Shutdown cancels in-flight receives; those messages go back to the queue, not to the error queue.
        if (exception is not OperationCanceledException && exception.GetBaseException() is not OperationCanceledException)
        {
            metrics.Unreadable();
            Log.Unreadable(logger, exception.GetType().Name, exception.Message);
        }

        return Task.CompletedTask;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 11003, Level = LogLevel.Error, Message = "A message on the audit queue could not be read as an audit event ({ErrorType}: {Error}); moved to the error queue")]
        public static partial void Unreadable(ILogger logger, string errorType, string error);
    }
}
