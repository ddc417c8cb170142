using MdvGateway.AuditConsumer.Configuration;
using Npgsql;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// <c>dotnet MdvGateway.AuditConsumer.dll migrate …</c>: applies, rolls back, lists or scripts the audit schema's
/// migrations, then exits. Writes SQL (for <c>--script</c>) or a report to the output writer and problems to the
/// error writer, so scripts can redirect the SQL alone.
/// </summary>
internal static class MigrateCommand
{
    public const int Ok = 0;
    public const int Failed = 1;
    public const int Usage = 2;

    public static async Task<int> RunAsync(string[] args, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        var arguments = MigrateArguments.TryParse(args, out var parseError);
        if (arguments is null)
        {
            await error.WriteLineAsync($"migrate: {parseError}");
            await error.WriteLineAsync(MigrateArguments.Usage);
            return Usage;
        }

        if (arguments.Help)
        {
            await output.WriteLineAsync(MigrateArguments.Usage);
            return Ok;
        }

        // The same configuration sources as the service (appsettings.json, environment, command line).
        var configuration = WebApplication.CreateBuilder(new WebApplicationOptions { Args = [.. arguments.ConfigurationArgs] }).Configuration;
        var problems = new List<string>();
        var connectionString = AuditConsumerSettings.TryLoadConnectionString(configuration, problems);
        if (connectionString is null)
        {
            await error.WriteLineAsync(AuditConsumerConfigurationException.Format(problems));
            return Usage;
        }

        var migrator = new SchemaMigrator(connectionString);
        if (!TryResolve(migrator, arguments.To, out var to, out var unknown) || !TryResolve(migrator, arguments.From, out var from, out unknown))
        {
            await error.WriteLineAsync($"migrate: unknown migration '{unknown}'. Known migrations, oldest first:");
            await error.WriteLineAsync($"  {SchemaMigrator.Empty,-40} (empty database: everything rolled back)");
            foreach (var id in migrator.All())
            {
                await error.WriteLineAsync($"  {SchemaMigrator.NameOf(id),-40} ({id})");
            }

            return Usage;
        }

        if (arguments.Script)
        {
            await output.WriteAsync(migrator.Script(from, to));
            return Ok;
        }

        var target = new NpgsqlConnectionStringBuilder(connectionString);
        var where = $"{target.Database ?? target.Username} on {target.Host}:{target.Port}";
        try
        {
            if (arguments.List)
            {
                var applied = await migrator.AppliedAsync(cancellationToken);
                await output.WriteLineAsync($"Audit schema migrations in {where}:");
                foreach (var id in migrator.All())
                {
                    await output.WriteLineAsync($"  {(applied.Contains(id) ? "applied" : "pending"),-8} {id}");
                }

                foreach (var id in applied.Except(migrator.All()))
                {
                    await output.WriteLineAsync($"  applied  {id} (unknown to this build: applied by a newer version?)");
                }

                return Ok;
            }

            var before = await migrator.AppliedAsync(cancellationToken);
            await migrator.MigrateAsync(to, cancellationToken);
            var after = await migrator.AppliedAsync(cancellationToken);
            foreach (var id in after.Except(before))
            {
                await output.WriteLineAsync($"applied     {id}");
            }

            foreach (var id in before.Except(after).Reverse())
            {
                await output.WriteLineAsync($"rolled back {id}");
            }

            await output.WriteLineAsync(after.Count == 0
                ? $"Audit schema in {where}: no migration applied."
                : $"Audit schema in {where}: at {after[^1]} ({after.Count} of {migrator.All().Count} applied).");
            return Ok;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            await error.WriteLineAsync($"migrate: failed against {where}: {ex.GetType().Name}: {ex.Message}");
            await error.WriteLineAsync("Each migration runs in its own transaction: the one that failed left nothing behind. Check with: migrate --list");
            return Failed;
        }
    }

    private static bool TryResolve(SchemaMigrator migrator, string? nameOrId, out string? id, out string? unknown)
    {
        unknown = null;
        id = null;
        if (nameOrId is null)
        {
            return true;
        }

        id = migrator.Resolve(nameOrId);
        unknown = id is null ? nameOrId : null;
        return id is not null;
    }
}
