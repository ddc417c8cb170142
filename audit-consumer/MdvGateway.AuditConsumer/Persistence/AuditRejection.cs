namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>Why an audit event can never be stored. The metric tag is the snake_case name.</summary>
internal enum AuditRejectionReason
{
    MissingEventId,
    InvalidEventType,
    InvalidOccurredAt,
    InvalidClientIp,
    InvalidText,
    InvalidDetails,
    DatabaseRejected,
}

/// <summary>One event that can never be stored, and why (the text goes into the error queue's fault headers).</summary>
internal sealed record AuditRejection(Guid EventId, AuditRejectionReason Reason, string Detail)
{
    public string Tag => Reason switch
    {
        AuditRejectionReason.MissingEventId => "missing_event_id",
        AuditRejectionReason.InvalidEventType => "invalid_event_type",
        AuditRejectionReason.InvalidOccurredAt => "invalid_occurred_at",
        AuditRejectionReason.InvalidClientIp => "invalid_client_ip",
        AuditRejectionReason.InvalidText => "invalid_text",
        AuditRejectionReason.InvalidDetails => "invalid_details",
        _ => "database_rejected",
    };

    public override string ToString() => $"{EventId}: {Detail}";
}
