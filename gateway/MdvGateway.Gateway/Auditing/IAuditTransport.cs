using MdvGateway.Contracts;

namespace MdvGateway.Gateway.Auditing;

/// <summary>The broker, as the publisher sees it. The only place the message bus appears.</summary>
internal interface IAuditTransport : IAsyncDisposable
{
    /// <summary>Starts connecting in the background; returns at once even when the broker is away.</summary>
    void Start();

    /// <summary>Declares both message exchanges, the queue and their bindings (idempotent). Throws when the broker cannot be reached.</summary>
    Task DeclareTopologyAsync(CancellationToken cancellationToken);

    /// <summary>Publishes one event as a message of its own, durably, and completes when the broker confirmed it. Throws or is cancelled otherwise.</summary>
    Task PublishAsync(AuditEventRecorded auditEvent, CancellationToken cancellationToken);

    /// <summary>Publishes several events as one message, durably, and completes when the broker confirmed it. Throws or is cancelled otherwise.</summary>
    Task PublishAsync(AuditEventsRecorded message, CancellationToken cancellationToken);

    /// <summary>Stops the bus and closes its connection, waiting at most until <paramref name="cancellationToken"/> fires.</summary>
    Task StopAsync(CancellationToken cancellationToken);
}
