using MdvGateway.AuditConsumer.Configuration;
using MdvGateway.AuditConsumer.Diagnostics;
using Microsoft.Extensions.Options;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>Runs <see cref="PartitionMaintainer"/> at start and every <c>Audit:PartitionMaintenanceInterval</c>.</summary>
internal sealed partial class PartitionMaintenanceService(
    PartitionMaintainer maintainer,
    SchemaStartupGate schemaStartup,
    IOptions<AuditOptions> options,
    AuditMetrics metrics,
    TimeProvider timeProvider,
    ILogger<PartitionMaintenanceService> logger) : BackgroundService
{
    /// <summary>After a failure (or before migrations are applied), the next attempt comes this soon at the latest.</summary>
    private static readonly TimeSpan RetryAfterFailure = TimeSpan.FromSeconds(30);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.PartitionMaintenanceInterval;
        try
        {
            await schemaStartup.WaitAsync(stoppingToken);
        }
        catch (OperationCanceledException)
        {
            return;
        }

        while (!stoppingToken.IsCancellationRequested)
        {
            var next = interval;
            try
            {
                var report = await maintainer.RunAsync(timeProvider.GetUtcNow(), stoppingToken);
                if (report.SchemaMissing)
                {
                    Log.SchemaMissing(logger);
                    next = Min(interval, RetryAfterFailure);
                }
                else
                {
                    metrics.PartitionsMaintained(report.Created.Count, report.RowsMoved, report.Dropped.Count);
                    if (report.Created.Count > 0 || report.Dropped.Count > 0 || report.DefaultRowsDeleted > 0)
                    {
                        Log.Maintained(logger, report.Created, report.RowsMoved, report.Dropped, report.DefaultRowsDeleted);
                    }
                }
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                metrics.MaintenanceFailed();
                Log.Failed(logger, ex.GetType().Name, ex.Message);
                next = Min(interval, RetryAfterFailure);
            }

            try
            {
                await Task.Delay(next, timeProvider, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    private static TimeSpan Min(TimeSpan a, TimeSpan b) => a < b ? a : b;

    private static partial class Log
    {
        [LoggerMessage(EventId = 13001, Level = LogLevel.Information, Message = "Audit partitions maintained: created {Created} (moved {RowsMoved} rows out of the default partition), dropped {Dropped}, deleted {DefaultRowsDeleted} expired rows from the default partition")]
        public static partial void Maintained(ILogger logger, IReadOnlyList<string> created, long rowsMoved, IReadOnlyList<string> dropped, long defaultRowsDeleted);

        [LoggerMessage(EventId = 13002, Level = LogLevel.Warning, Message = "Audit partition maintenance failed ({ErrorType}: {Error}); retrying within 30 s")]
        public static partial void Failed(ILogger logger, string errorType, string error);

        [LoggerMessage(EventId = 13003, Level = LogLevel.Warning, Message = "Audit partition maintenance skipped: table audit_logs does not exist (run 'migrate'); retrying within 30 s")]
        public static partial void SchemaMissing(ILogger logger);
    }
}
