using MdvGateway.AuditConsumer.Persistence;
using MdvGateway.AuditConsumer.Tests.Infrastructure;
using MdvGateway.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;

namespace MdvGateway.AuditConsumer.Tests.Persistence;

/// <summary>The bulk writer against a real database.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class AuditLogWriterTests : IAsyncLifetime
{
    private TestDatabase _database = null!;
    private NpgsqlDataSource _dataSource = null!;

    public async Task InitializeAsync()
    {
        _database = await AuditInfrastructure.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_database.ConnectionString);
    }

    public async Task DisposeAsync()
    {
        await _dataSource.DisposeAsync();
        await _database.DisposeAsync();
    }

    [Fact]
    public async Task Write_SameRecordsTwiceAndTwiceInOneBatch_StoresEachOnce()
    {
        var writer = Writer();
        var records = Enumerable.Range(0, 100).Select(_ => Record()).ToList();

        var first = await writer.WriteAsync([.. records, records[0], records[1]], CancellationToken.None);
        var second = await writer.WriteAsync(records, CancellationToken.None);

        Assert.Equal(100, first.Inserted);
        Assert.Equal(0, second.Inserted);
        Assert.Empty(first.Rejected);
        Assert.Equal(100L, await _database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
    }

    [Fact]
    public async Task Write_RecordPostgresRefuses_IsRejectedAloneAndTheRestIsStored()
    {
        // jsonb refuses \u0000; validation catches it too, so this record is built past validation on purpose.
        var refused = Record() with { Details = """{"reason":"nul \u0000 inside"}""" };
        var records = new[] { Record(), refused, Record(), Record() };

        var result = await Writer().WriteAsync(records, CancellationToken.None);

        Assert.Equal(3, result.Inserted);
        var (index, rejection) = Assert.Single(result.Rejected);
        Assert.Equal(1, index);
        Assert.Equal(refused.EventId, rejection.EventId);
        Assert.Equal(AuditRejectionReason.DatabaseRejected, rejection.Reason);
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM audit_logs WHERE event_id = @id", ("id", refused.EventId)));
    }

    [Fact]
    public async Task Write_SchemaMissing_ThrowsSoTheBatchIsRetried()
    {
        await _database.ExecuteAsync("DROP TABLE audit_logs");

        var error = await Assert.ThrowsAsync<PostgresException>(() => Writer().WriteAsync([Record()], CancellationToken.None));

        Assert.Equal(PostgresErrorCodes.UndefinedTable, error.SqlState);
        Assert.False(AuditLogWriter.IsContentError(error));
    }

    private AuditLogWriter Writer() => new(_dataSource, NullLogger<AuditLogWriter>.Instance);

    private static AuditRecord Record()
        => new(Guid.NewGuid(), AuditEventTypes.RateLimitExceeded, AuditEvents.Now(), null, "api", "per-ip", "gw-1", """{"count":1}""");
}
