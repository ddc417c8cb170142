namespace MdvGateway.Gateway.Auditing;

internal sealed partial class AuditSpool
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 6101, Level = LogLevel.Information, Message = "Audit spool {Directory} holds {SegmentCount} segment(s), {Bytes} bytes, to replay")]
        public static partial void Found(ILogger logger, int segmentCount, long bytes, string directory);

        [LoggerMessage(EventId = 6102, Level = LogLevel.Error, Message = "Audit spool {Directory} is full ({MaxBytes} bytes): {Count} audit event(s) dropped")]
        public static partial void Full(ILogger logger, int count, string directory, long maxBytes);

        [LoggerMessage(EventId = 6103, Level = LogLevel.Error, Message = "Audit spool write to {Directory} failed, {Count} audit event(s) dropped: {Error}")]
        public static partial void WriteFailed(ILogger logger, int count, string directory, string error);

        [LoggerMessage(EventId = 6104, Level = LogLevel.Warning, Message = "Unreadable line {LineNumber} in audit spool segment {Path} dropped")]
        public static partial void Unreadable(ILogger logger, string path, int lineNumber);

        [LoggerMessage(EventId = 6105, Level = LogLevel.Warning, Message = "Could not delete replayed audit spool segment {Path}: {Error}")]
        public static partial void DeleteFailed(ILogger logger, string path, string error);

        [LoggerMessage(EventId = 6106, Level = LogLevel.Error, Message = "{Count} audit event(s) arrived after the spool was closed at shutdown and were dropped")]
        public static partial void DroppedClosed(ILogger logger, int count);
    }
}
