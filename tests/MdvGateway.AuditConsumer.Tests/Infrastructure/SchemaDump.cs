using System.Text;
using Npgsql;

namespace MdvGateway.AuditConsumer.Tests.Infrastructure;

/// <summary>A text rendering of a database's schema from the catalogs: columns, constraints, indexes, partitions,
/// comments and the migration history. Two databases with equal dumps have the same schema.</summary>
internal static class SchemaDump
{
    private static readonly string[] Queries =
    [
        """
        SELECT table_name, column_name, ordinal_position, data_type, is_nullable, column_default, is_identity, identity_generation
        FROM information_schema.columns WHERE table_schema = 'public' ORDER BY 1, 3
        """,
        """
        SELECT conrelid::regclass::text, conname, contype, pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2
        """,
        "SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY 1, 2",
        """
        SELECT c.relname, c.relkind, pg_get_partkeydef(c.oid), pg_get_expr(c.relpartbound, c.oid), p.relname AS parent
        FROM pg_class c LEFT JOIN pg_inherits i ON i.inhrelid = c.oid LEFT JOIN pg_class p ON p.oid = i.inhparent
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind IN ('r', 'p', 'S') ORDER BY 1
        """,
        """
        SELECT c.relname, d.objsubid, d.description FROM pg_description d JOIN pg_class c ON c.oid = d.objoid
        WHERE c.relnamespace = 'public'::regnamespace ORDER BY 1, 2
        """,
        """
        SELECT "MigrationId", "ProductVersion" FROM "__EFMigrationsHistory" ORDER BY 1
        """,
    ];

    public static async Task<string> OfAsync(string connectionString)
    {
        var dump = new StringBuilder();
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        foreach (var query in Queries)
        {
            await using var command = new NpgsqlCommand(query, connection);
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                for (var i = 0; i < reader.FieldCount; i++)
                {
                    dump.Append(reader.IsDBNull(i) ? "∅" : Convert.ToString(reader.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)).Append(" | ");
                }

                dump.AppendLine();
            }

            dump.AppendLine("----");
        }

        return dump.ToString();
    }

    /// <summary>Every relation whose name starts with <c>audit_logs</c> (tables, partitions, indexes, sequence).</summary>
    public static async Task<long> AuditRelationCountAsync(TestDatabase database)
        => await database.ScalarAsync<long>("SELECT count(*) FROM pg_class WHERE relnamespace = 'public'::regnamespace AND relname LIKE 'audit\\_logs%'");
}
