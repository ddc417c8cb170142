using MdvGateway.AuditConsumer.Persistence;

namespace MdvGateway.AuditConsumer.Consumers;

/// <summary>What <see cref="AuditEventStorage.StoreAsync"/> could not store; everything else it was handed is committed.</summary>
/// <param name="Rejections">The unstorable events, by their index in the list handed over, in index order.</param>
/// <param name="Elapsed">How long the write took.</param>
internal sealed record AuditStorageResult(IReadOnlyList<(int Index, AuditRejection Rejection)> Rejections, TimeSpan Elapsed);
