using MdvGateway.AuditConsumer.Configuration;
using MdvGateway.AuditConsumer.Persistence;
using MdvGateway.AuditConsumer.Tests.Infrastructure;
using MdvGateway.Contracts;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MdvGateway.AuditConsumer.Tests.Persistence;

/// <summary>Partition maintenance on a real, migrated database, at times the test chooses.</summary>
[Collection(AuditInfrastructureGroup.Name)]
public sealed class PartitionMaintainerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset November2026 = new(2026, 11, 25, 13, 0, 0, TimeSpan.Zero);

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
    public async Task Run_OnFreshSchema_CreatesTheCurrentMonthAndThreeAheadOnce()
    {
        var first = await Maintainer().RunAsync(November2026, CancellationToken.None);
        var second = await Maintainer().RunAsync(November2026.AddHours(1), CancellationToken.None);

        Assert.Equal(["audit_logs_y2026m11", "audit_logs_y2026m12", "audit_logs_y2027m01", "audit_logs_y2027m02"], first.Created);
        Assert.Empty(second.Created);
        Assert.Equal(
            [
                ("audit_logs_default", "DEFAULT"),
                ("audit_logs_y2026m11", "FOR VALUES FROM ('2026-11-01 00:00:00+00') TO ('2026-12-01 00:00:00+00')"),
                ("audit_logs_y2026m12", "FOR VALUES FROM ('2026-12-01 00:00:00+00') TO ('2027-01-01 00:00:00+00')"),
                ("audit_logs_y2027m01", "FOR VALUES FROM ('2027-01-01 00:00:00+00') TO ('2027-02-01 00:00:00+00')"),
                ("audit_logs_y2027m02", "FOR VALUES FROM ('2027-02-01 00:00:00+00') TO ('2027-03-01 00:00:00+00')"),
            ],
            await PartitionsAsync());
    }

    [Fact]
    public async Task Run_WhenTheDefaultPartitionHoldsRowsOfTheNewMonth_MovesThemInKeepingIdsAndUniqueness()
    {
        var writer = new AuditLogWriter(_dataSource, NullLogger<AuditLogWriter>.Instance);
        var november = Record(November2026);
        var april = Record(new DateTimeOffset(2027, 4, 10, 8, 30, 0, TimeSpan.Zero));
        await writer.WriteAsync([november, april], CancellationToken.None);
        var ids = await IdsAsync();

        var first = await Maintainer().RunAsync(November2026, CancellationToken.None);
        Assert.Equal(1, first.RowsMoved);
        Assert.Equal("audit_logs_y2026m11", await PartitionOfAsync(november.EventId));
        Assert.Equal("audit_logs_default", await PartitionOfAsync(april.EventId));

        var later = await Maintainer().RunAsync(new DateTimeOffset(2027, 2, 1, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
        Assert.Equal(["audit_logs_y2027m03", "audit_logs_y2027m04", "audit_logs_y2027m05"], later.Created);
        Assert.Equal(1, later.RowsMoved);
        Assert.Equal("audit_logs_y2027m04", await PartitionOfAsync(april.EventId));
        Assert.Equal(0L, await _database.ScalarAsync<long>("SELECT count(*) FROM audit_logs_default"));
        Assert.Equal(ids, await IdsAsync());

        // The moved rows still take part in idempotency: redelivering them adds nothing.
        var again = await writer.WriteAsync([november, april], CancellationToken.None);
        Assert.Equal(0, again.Inserted);
        Assert.Equal(2L, await _database.ScalarAsync<long>("SELECT count(*) FROM audit_logs"));
    }

    [Fact]
    public async Task Run_PastRetention_DropsWholeOldMonthsAndExpiredDefaultRowsOnly()
    {
        var writer = new AuditLogWriter(_dataSource, NullLogger<AuditLogWriter>.Instance);
        await Maintainer().RunAsync(new DateTimeOffset(2026, 1, 15, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);
        var january = Record(new DateTimeOffset(2026, 1, 20, 0, 0, 0, TimeSpan.Zero));
        var february = Record(new DateTimeOffset(2026, 2, 20, 0, 0, 0, TimeSpan.Zero));
        var ancient = Record(new DateTimeOffset(2020, 1, 1, 0, 0, 0, TimeSpan.Zero));
        await writer.WriteAsync([january, february, ancient], CancellationToken.None);

        // 400 days before 2027-03-10 is 2026-02-03: January has wholly expired, February has not.
        var report = await Maintainer(retentionDays: 400).RunAsync(new DateTimeOffset(2027, 3, 10, 0, 0, 0, TimeSpan.Zero), CancellationToken.None);

        Assert.Equal(["audit_logs_y2026m01"], report.Dropped);
        Assert.Equal(1, report.DefaultRowsDeleted);
        var partitions = (await PartitionsAsync()).Select(p => p.Name).ToList();
        Assert.DoesNotContain("audit_logs_y2026m01", partitions);
        Assert.Contains("audit_logs_y2026m02", partitions);
        Assert.Contains("audit_logs_y2027m06", partitions);
        Assert.Equal([february.EventId], (await _database.RowsAsync("SELECT event_id FROM audit_logs")).Select(r => (Guid)r[0]!));
    }

    [Fact]
    public async Task Run_ByTwoConsumersAtOnce_CreatesEachPartitionOnce()
    {
        var reports = await Task.WhenAll(Maintainer().RunAsync(November2026, CancellationToken.None), Maintainer().RunAsync(November2026, CancellationToken.None));

        Assert.Equal(4, reports.Sum(r => r.Created.Count));
        Assert.Equal(5, (await PartitionsAsync()).Count);
    }

    [Fact]
    public async Task Run_WithoutTheSchema_ReportsItMissingAndChangesNothing()
    {
        await using var empty = await AuditInfrastructure.CreateDatabaseAsync(migrated: false);
        await using var dataSource = NpgsqlDataSource.Create(empty.ConnectionString);

        var report = await new PartitionMaintainer(dataSource, Options.Create(new AuditOptions())).RunAsync(November2026, CancellationToken.None);

        Assert.True(report.SchemaMissing);
        Assert.Equal(0L, await empty.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relname LIKE 'audit\\_logs%'"));
    }

    private PartitionMaintainer Maintainer(int retentionDays = 400)
        => new(_dataSource, Options.Create(new AuditOptions { RetentionDays = retentionDays, PartitionsAhead = 3 }));

    private static AuditRecord Record(DateTimeOffset at)
        => new(Guid.NewGuid(), AuditEventTypes.BanIssued, at, null, null, null, "gw-1", """{"level":1}""");

    private async Task<List<(string Name, string Bound)>> PartitionsAsync()
        => (await _database.RowsAsync("""
                SELECT c.relname, pg_get_expr(c.relpartbound, c.oid)
                FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                WHERE i.inhparent = 'audit_logs'::regclass ORDER BY 1
                """))
            .Select(r => ((string)r[0]!, (string)r[1]!)).ToList();

    private async Task<string> PartitionOfAsync(Guid eventId)
        => await _database.ScalarAsync<string>("SELECT tableoid::regclass::text FROM audit_logs WHERE event_id = @id", ("id", eventId));

    private async Task<List<string>> IdsAsync()
        => (await _database.RowsAsync("SELECT id || ':' || event_id FROM audit_logs ORDER BY id")).Select(r => (string)r[0]!).ToList();
}
