using MdvGateway.AuditConsumer.Configuration;
using Microsoft.Extensions.Options;
using Npgsql;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// Creates the monthly partitions ahead of time and drops those past retention. Several consumers may run it at once:
/// each change takes a transaction-level advisory lock and re-checks what exists.
/// </summary>
internal sealed class PartitionMaintainer(NpgsqlDataSource dataSource, IOptions<AuditOptions> options)
{
    // Maintenance waits at most this long for a table lock, then gives up until its next run, rather than stall
    // writers queued behind it while a long report query holds the table.
    private const string LockTimeout = "5s";

    private readonly AuditOptions _options = options.Value;

    public async Task<PartitionMaintenanceReport> RunAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        if (!await ExistsAsync(connection, AuditSchema.Table, cancellationToken))
        {
            return PartitionMaintenanceReport.Missing;
        }

        var existing = await MonthlyPartitionsAsync(connection, cancellationToken);
        var created = new List<string>();
        long moved = 0;
        foreach (var partition in PartitionPlan.ToCreate(now, _options.PartitionsAhead, existing))
        {
            if (await CreateAsync(connection, partition, cancellationToken) is { } rows)
            {
                created.Add(partition.Name);
                moved += rows;
            }
        }

        var dropped = new List<string>();
        foreach (var partition in PartitionPlan.ToDrop(now, _options.RetentionDays, existing))
        {
            if (await DropAsync(connection, partition, cancellationToken))
            {
                dropped.Add(partition.Name);
            }
        }

        var deleted = await DeleteExpiredDefaultRowsAsync(connection, PartitionPlan.RetentionCutoff(now, _options.RetentionDays), cancellationToken);
        return new PartitionMaintenanceReport(false, created, moved, dropped, deleted);
    }

    /// <summary>Creates one month's partition. If the default partition already holds rows of that month (PostgreSQL
    /// would refuse the plain <c>CREATE … PARTITION OF</c>), they are moved into it, keeping their ids, in the same
    /// transaction.</summary>
    /// <returns>Rows moved, or null if another consumer created the partition first.</returns>
    private static async Task<long?> CreateAsync(NpgsqlConnection connection, MonthPartition partition, CancellationToken cancellationToken)
    {
        await using var transaction = await BeginLockedAsync(connection, cancellationToken);
        if (await ExistsAsync(connection, partition.Name, cancellationToken))
        {
            return null;
        }

        var name = Quote(partition.Name);
        var from = MonthPartition.Literal(partition.From);
        var to = MonthPartition.Literal(partition.To);
        long moved = 0;
        if (await ExistsAsync(connection, AuditSchema.DefaultPartition, cancellationToken))
        {
            // The default partition is locked first so no writer adds a row of this month between the move and the
            // attach; writers of other months are not held up (their rows are routed to other partitions).
            await ExecuteAsync(connection, $"LOCK TABLE {AuditSchema.DefaultPartition} IN ACCESS EXCLUSIVE MODE", cancellationToken);
            await ExecuteAsync(connection, $"CREATE TABLE {name} (LIKE {AuditSchema.Table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS INCLUDING STORAGE INCLUDING COMPRESSION)", cancellationToken);
            moved = await ExecuteAsync(connection, $"""
                WITH moved AS (
                    DELETE FROM {AuditSchema.DefaultPartition}
                    WHERE occurred_at >= '{from}' AND occurred_at < '{to}'
                    RETURNING *)
                INSERT INTO {name} SELECT * FROM moved
                """, cancellationToken);
            await ExecuteAsync(connection, $"ALTER TABLE {AuditSchema.Table} ATTACH PARTITION {name} FOR VALUES FROM ('{from}') TO ('{to}')", cancellationToken);
        }
        else
        {
            await ExecuteAsync(connection, $"CREATE TABLE {name} PARTITION OF {AuditSchema.Table} FOR VALUES FROM ('{from}') TO ('{to}')", cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return moved;
    }

    private static async Task<bool> DropAsync(NpgsqlConnection connection, MonthPartition partition, CancellationToken cancellationToken)
    {
        await using var transaction = await BeginLockedAsync(connection, cancellationToken);
        if (!await ExistsAsync(connection, partition.Name, cancellationToken))
        {
            return false;
        }

        await ExecuteAsync(connection, $"DROP TABLE {Quote(partition.Name)}", cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        return true;
    }

    /// <summary>Rows of months that never had a partition (they arrived very late, or before the first maintenance)
    /// live in the default partition; retention applies to them too.</summary>
    private static async Task<long> DeleteExpiredDefaultRowsAsync(NpgsqlConnection connection, DateTimeOffset cutoff, CancellationToken cancellationToken)
    {
        if (!await ExistsAsync(connection, AuditSchema.DefaultPartition, cancellationToken))
        {
            return 0;
        }

        await using var command = new NpgsqlCommand($"DELETE FROM {AuditSchema.DefaultPartition} WHERE occurred_at < @cutoff", connection);
        command.Parameters.AddWithValue("cutoff", cutoff);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static async Task<NpgsqlTransaction> BeginLockedAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await ExecuteAsync(connection, $"SET LOCAL lock_timeout = '{LockTimeout}'", cancellationToken);
        await using var command = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection);
        command.Parameters.AddWithValue("key", AuditSchema.MaintenanceLockKey);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return transaction;
    }

    private static async Task<HashSet<MonthPartition>> MonthlyPartitionsAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = to_regclass(@table)", connection);
        command.Parameters.AddWithValue("table", AuditSchema.Table);
        var partitions = new HashSet<MonthPartition>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (MonthPartition.TryParseName(reader.GetString(0), out var partition))
            {
                partitions.Add(partition);
            }
        }

        return partitions;
    }

    private static async Task<bool> ExistsAsync(NpgsqlConnection connection, string relation, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand("SELECT to_regclass(@name) IS NOT NULL", connection);
        command.Parameters.AddWithValue("name", Quote(relation));
        return (bool)(await command.ExecuteScalarAsync(cancellationToken))!;
    }

    private static async Task<int> ExecuteAsync(NpgsqlConnection connection, string sql, CancellationToken cancellationToken)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
