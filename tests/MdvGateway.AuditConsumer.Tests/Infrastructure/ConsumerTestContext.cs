namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>
/// A test class's own consumer on the real broker and a fresh database, with a publisher: the queue is purged first,
/// and everything is disposed after each test.
/// </summary>
public abstract class ConsumerTestContext(AuditInfrastructure infrastructure) : IAsyncLifetime
{
    protected AuditInfrastructure Infrastructure { get; } = infrastructure;

    protected TestDatabase Database { get; private set; } = null!;

    protected InProcessConsumer Consumer { get; private set; } = null!;

    protected TestPublisher Publisher { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        await Infrastructure.PurgeAsync();
        Database = await AuditInfrastructure.CreateDatabaseAsync();
        Consumer = await InProcessConsumer.StartAsync(Infrastructure.ConsumerArgs(Database.ConnectionString));
        Publisher = await TestPublisher.StartAsync(Infrastructure);
    }

    public async Task DisposeAsync()
    {
        await Publisher.DisposeAsync();
        await Consumer.DisposeAsync();
        await Database.DisposeAsync();
    }
}
