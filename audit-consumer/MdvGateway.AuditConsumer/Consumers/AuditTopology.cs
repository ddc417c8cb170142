namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>
/// The RabbitMQ names the consumer declares (the gateway declares the same ones, so events published before any
/// consumer ran are kept). Every exchange is durable, fanout, not auto-deleted, without arguments; every queue is
/// durable, not exclusive, not auto-deleted, without arguments.
/// </summary>
internal static class AuditTopology
{
    /// <summary>The exchange MassTransit names after the single-event message type; publishers send here.</summary>
    public const string MessageExchange = "MdvGateway.Contracts:AuditEventRecorded";

    /// <summary>The same for the message that carries many events (<c>AuditEventsRecorded</c>).</summary>
    public const string BatchMessageExchange = "MdvGateway.Contracts:AuditEventsRecorded";

    /// <summary>The consumer's queue, and the exchange of the same name bound to it (MassTransit's receive endpoint
    /// layout: <see cref="MessageExchange"/> and <see cref="BatchMessageExchange"/> → exchange <c>audit-events</c> →
    /// queue <c>audit-events</c>).</summary>
    public const string QueueName = "audit-events";

    /// <summary>Where messages that can never be stored end up (created by MassTransit on the first one).</summary>
    public const string ErrorQueueName = QueueName + "_error";
}
