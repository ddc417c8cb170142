using MdvGateway.AuditConsumer.Configuration;
using Microsoft.Extensions.Options;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// At start: with <c>Audit:MigrateOnStart</c>, applies pending migrations (retrying until PostgreSQL answers);
/// without it, says once and clearly when the schema is behind, since readiness then stays 503. Never stops the
/// process: a consumer that crash-loops on a missing migration is harder to diagnose than one that says so.
/// </summary>
internal sealed partial class SchemaStartupService(
    SchemaMigrator migrator,
    SchemaStartupGate gate,
    IOptions<AuditOptions> options,
    TimeProvider timeProvider,
    ILogger<SchemaStartupService> logger) : BackgroundService
{
    private static readonly TimeSpan MaxRetryDelay = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await CheckOrMigrateAsync(stoppingToken);
        }
        finally
        {
            gate.Open();
        }
    }

    private async Task CheckOrMigrateAsync(CancellationToken stoppingToken)
    {
        var delay = TimeSpan.FromSeconds(1);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                var pending = await migrator.PendingAsync(stoppingToken);
                if (pending.Count == 0)
                {
                    return;
                }

                if (!options.Value.MigrateOnStart)
                {
                    Log.Pending(logger, pending);
                    return;
                }

                await migrator.MigrateAsync(null, stoppingToken);
                Log.Migrated(logger, pending);
                return;
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                Log.CheckFailed(logger, ex.GetType().Name, ex.Message, delay);
            }

            try
            {
                await Task.Delay(delay, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            delay = delay * 2 < MaxRetryDelay ? delay * 2 : MaxRetryDelay;
        }
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 14001, Level = LogLevel.Warning, Message = "The audit schema is behind this build: migrations not applied: {Pending}. Events stay queued and /health/ready answers 503 until 'dotnet MdvGateway.AuditConsumer.dll migrate' is run (or Audit:MigrateOnStart=true)")]
        public static partial void Pending(ILogger logger, IReadOnlyList<string> pending);

        [LoggerMessage(EventId = 14002, Level = LogLevel.Information, Message = "Applied audit schema migrations at start (Audit:MigrateOnStart): {Applied}")]
        public static partial void Migrated(ILogger logger, IReadOnlyList<string> applied);

        [LoggerMessage(EventId = 14003, Level = LogLevel.Warning, Message = "Could not check or migrate the audit schema ({ErrorType}: {Error}); retrying in {Delay}")]
        public static partial void CheckFailed(ILogger logger, string errorType, string error, TimeSpan delay);
    }
}
