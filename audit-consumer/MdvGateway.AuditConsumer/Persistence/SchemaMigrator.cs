using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// The audit schema's versioned migrations (EF Core): list, apply, roll back, script. Used by the <c>migrate</c> verb,
/// by <c>Audit:MigrateOnStart</c> and by the readiness check.
/// </summary>
internal sealed class SchemaMigrator(string connectionString)
{
    /// <summary>The target that means "no migration applied" (everything rolled back).</summary>
    public const string Empty = Migration.InitialDatabase;

    /// <summary>Every migration this build knows, oldest first (ids such as <c>20261125190606_CreateAuditLogs</c>).</summary>
    public IReadOnlyList<string> All()
    {
        using var context = CreateContext();
        return context.Database.GetMigrations().ToList();
    }

    public async Task<IReadOnlyList<string>> AppliedAsync(CancellationToken cancellationToken)
    {
        await using var context = CreateContext();
        return (await context.Database.GetAppliedMigrationsAsync(cancellationToken)).ToList();
    }

    /// <summary>Known migrations not applied to the database (an empty list: the schema is current).</summary>
    public async Task<IReadOnlyList<string>> PendingAsync(CancellationToken cancellationToken)
    {
        await using var context = CreateContext();
        return (await context.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
    }

    /// <summary>Applies or rolls back until <paramref name="target"/> (a migration id, <see cref="Empty"/>, or null for
    /// the latest) is the last applied migration. Each migration runs in its own transaction.</summary>
    public async Task MigrateAsync(string? target, CancellationToken cancellationToken)
    {
        await using var context = CreateContext();
        await context.GetService<IMigrator>().MigrateAsync(target, cancellationToken);
    }

    /// <summary>The SQL that takes a database from <paramref name="from"/> to <paramref name="to"/> (null: from empty,
    /// to the latest). Touches no database.</summary>
    public string Script(string? from, string? to)
    {
        using var context = CreateContext();
        return context.GetService<IMigrator>().GenerateScript(from, to);
    }

    /// <summary>A migration's full id from its id or its name (<c>CreateAuditLogs</c>), <see cref="Empty"/> for
    /// <c>0</c>, or null when this build has no such migration.</summary>
    public string? Resolve(string nameOrId)
    {
        if (nameOrId == Empty)
        {
            return Empty;
        }

        return All().FirstOrDefault(id => string.Equals(id, nameOrId, StringComparison.OrdinalIgnoreCase)
                                          || string.Equals(NameOf(id), nameOrId, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>The name part of a migration id: <c>CreateAuditLogs</c> for <c>20261125190606_CreateAuditLogs</c>.</summary>
    public static string NameOf(string id) => id.IndexOf('_', StringComparison.Ordinal) is var i and >= 0 ? id[(i + 1)..] : id;

    private AuditDbContext CreateContext() => new(AuditDbContextOptions.Create(connectionString));
}
