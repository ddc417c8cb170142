using MdvGateway.AuditConsumer.Persistence;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// Thrown once the storable events of a batch are committed, so that only the unstorable ones fault and go to the
/// error queue (with this message in their fault headers). Never retried.
/// </summary>
public sealed class UnstorableAuditEventsException : Exception
{
    private const int MaxListed = 20;

    public UnstorableAuditEventsException()
    {
    }

    public UnstorableAuditEventsException(string message)
        : base(message)
    {
    }

    public UnstorableAuditEventsException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    internal UnstorableAuditEventsException(IReadOnlyList<AuditRejection> rejections)
        : base(Format(rejections))
    {
    }

    private static string Format(IReadOnlyList<AuditRejection> rejections)
    {
        var listed = string.Join("; ", rejections.Take(MaxListed));
        var more = rejections.Count > MaxListed ? $"; and {rejections.Count - MaxListed} more" : "";
        return $"{rejections.Count} audit event(s) can never be stored: {listed}{more}";
    }
}
