namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>Every test that uses the broker shares one virtual host and queue, so they run one at a time.</summary>
[CollectionDefinition(Name)]
public sealed class AuditInfrastructureGroup : ICollectionFixture<AuditInfrastructure>
{
    public const string Name = "audit infrastructure";
}
