namespace MdvGateway.Gateway.Auditing;

/// <summary>The audit publisher's view of RabbitMQ (see <see cref="IAuditBrokerStatus"/>).</summary>
internal enum AuditBrokerState
{
    /// <summary>Nothing declared or published yet since start.</summary>
    Connecting = 0,

    /// <summary>The last declaration or publish was confirmed.</summary>
    Reachable = 1,

    /// <summary>The last attempt failed or timed out: new events go to the disk spool and the broker is retried with back-off.</summary>
    Unreachable = 2,
}
