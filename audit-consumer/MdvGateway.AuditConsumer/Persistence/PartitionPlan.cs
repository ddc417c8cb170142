namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>Which monthly partitions should exist at a given time: pure, so every edge is unit-tested.</summary>
internal static class PartitionPlan
{
    /// <summary>The current month (UTC) and the <paramref name="ahead"/> months after it that do not exist yet.</summary>
    public static IReadOnlyList<MonthPartition> ToCreate(DateTimeOffset now, int ahead, IReadOnlySet<MonthPartition> existing)
    {
        var current = MonthPartition.Of(now);
        return Enumerable.Range(0, ahead + 1).Select(current.AddMonths).Where(p => !existing.Contains(p)).ToList();
    }

    /// <summary>Rows older than this are past retention.</summary>
    public static DateTimeOffset RetentionCutoff(DateTimeOffset now, int retentionDays) => now.ToUniversalTime().AddDays(-retentionDays);

    /// <summary>Partitions whose every row is past retention: their whole month ends at or before the cutoff.</summary>
    public static IReadOnlyList<MonthPartition> ToDrop(DateTimeOffset now, int retentionDays, IEnumerable<MonthPartition> existing)
    {
        var cutoff = RetentionCutoff(now, retentionDays);
        return existing.Where(p => p.To <= cutoff).Order().ToList();
    }
}
