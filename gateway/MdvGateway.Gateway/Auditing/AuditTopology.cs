using MdvGateway.Contracts;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// The broker objects the audit trail relies on. The gateway and the audit consumer both declare them, with the same
/// arguments, so events published before any consumer ever ran wait in the queue instead of being dropped by an
/// exchange with nothing bound to it.
/// </summary>
internal static class AuditTopology
{
    /// <summary>
    /// MassTransit's default exchange name for <see cref="AuditEventRecorded"/> (namespace:type), pinned here so that
    /// renaming the type cannot silently move the events to another exchange. Fanout, durable.
    /// </summary>
    public const string ExchangeName = "MdvGateway.Contracts:AuditEventRecorded";

    /// <summary>The same for <see cref="AuditEventsRecorded"/>, the message carrying several events; bound to the same queue.</summary>
    public const string BatchExchangeName = "MdvGateway.Contracts:AuditEventsRecorded";

    /// <summary>The durable queue the audit consumer reads; bound directly to both exchanges.</summary>
    public const string QueueName = "audit-events";

    public const string ExchangeType = "fanout";

    /// <summary>Both message exchanges, in the order they are declared.</summary>
    public static readonly IReadOnlyList<string> Exchanges = [ExchangeName, BatchExchangeName];

    /// <summary>The exchanges' names, for a log line.</summary>
    public static readonly string ExchangeList = string.Join(", ", Exchanges);
}
