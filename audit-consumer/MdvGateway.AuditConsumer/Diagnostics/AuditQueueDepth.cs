namespace MdvGateway.AuditConsumer.Diagnostics;

/// <summary>One reading of a queue on the broker.</summary>
/// <param name="Queue">The queue's name.</param>
/// <param name="Messages">Messages ready for delivery (not counting those delivered and not yet acknowledged).</param>
/// <param name="Consumers">Consumers attached to it.</param>
internal sealed record AuditQueueDepth(string Queue, long Messages, long Consumers);
