using Microsoft.EntityFrameworkCore;

namespace MdvGateway.AuditConsumer.Persistence;

internal static class AuditDbContextOptions
{
    /// <summary>Options for a short-lived context used by the migrator (no logging: <c>migrate --script</c> writes SQL
    /// alone to standard output).</summary>
    public static DbContextOptions<AuditDbContext> Create(string connectionString)
        => new DbContextOptionsBuilder<AuditDbContext>()
            .UseNpgsql(connectionString, npgsql => npgsql.MigrationsHistoryTable("__EFMigrationsHistory"))
            .Options;
}
