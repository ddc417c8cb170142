namespace MdvGateway.Gateway.Auditing;

internal sealed partial class AuditPublisher
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "Audit topology declared: exchanges {Exchanges} bound to queue {Queue}")]
        public static partial void TopologyDeclared(ILogger logger, string exchanges, string queue);

        [LoggerMessage(EventId = 6002, Level = LogLevel.Warning, Message = "RabbitMQ at {Host}:{Port} is unavailable for audit events ({ErrorType}: {Error}); spooling them to disk and retrying")]
        public static partial void BrokerAway(ILogger logger, string host, int port, string errorType, string error);

        [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "RabbitMQ at {Host}:{Port} accepts audit events again; replaying {SpoolBytes} spooled bytes")]
        public static partial void BrokerBack(ILogger logger, string host, int port, long spoolBytes);

        [LoggerMessage(EventId = 6004, Level = LogLevel.Information, Message = "Replayed {Count} spooled audit event(s) from {Path}")]
        public static partial void Replayed(ILogger logger, int count, string path);

        [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Could not read audit spool segment {Path}: {Error}")]
        public static partial void ReplayReadFailed(ILogger logger, string path, string error);

        [LoggerMessage(EventId = 6006, Level = LogLevel.Error, Message = "Audit publisher loop failed ({ErrorType}: {Error}); continuing")]
        public static partial void LoopFailed(ILogger logger, string errorType, string error);

        [LoggerMessage(EventId = 6007, Level = LogLevel.Information, Message = "Audit publisher stopped; {Count} queued event(s) handled at shutdown, {SpoolBytes} bytes left in the spool")]
        public static partial void Stopped(ILogger logger, int count, long spoolBytes);
    }
}
