using MdvGateway.AuditConsumer.Persistence;

namespace MdvGateway.AuditConsumer.Tests.Persistence;

public sealed class PartitionPlanTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 13, 0, 0, TimeSpan.Zero);

    [Fact]
    public void ToCreate_NothingExists_CurrentMonthAndAheadAcrossTheYearEnd()
        => Assert.Equal(["audit_logs_y2026m11", "audit_logs_y2026m12", "audit_logs_y2027m01", "audit_logs_y2027m02"],
            PartitionPlan.ToCreate(Now, 3, new HashSet<MonthPartition>()).Select(p => p.Name));

    [Fact]
    public void ToCreate_SomeExist_OnlyTheMissingOnes()
        => Assert.Equal(["audit_logs_y2027m01"],
            PartitionPlan.ToCreate(Now, 2, new HashSet<MonthPartition> { new(2026, 11), new(2026, 12) }).Select(p => p.Name));

    [Fact]
    public void ToCreate_UsesTheUtcMonth()
    {
        // 23:30 on 30 November in UTC-2 is already December in UTC.
        var lateEvening = new DateTimeOffset(2026, 11, 30, 23, 30, 0, TimeSpan.FromHours(-2));
        Assert.Equal(new MonthPartition(2026, 12), PartitionPlan.ToCreate(lateEvening, 0, new HashSet<MonthPartition>()).Single());
    }

    [Fact]
    public void ToDrop_OnlyMonthsThatEndedBeforeTheCutoff()
    {
        // 400 days before 2026-11-25 13:00 is 2025-10-21 13:00: September 2025 ended before it, October did not.
        var existing = new[] { new MonthPartition(2025, 8), new MonthPartition(2025, 9), new MonthPartition(2025, 10), new MonthPartition(2026, 11) };

        Assert.Equal([new MonthPartition(2025, 8), new MonthPartition(2025, 9)], PartitionPlan.ToDrop(Now, 400, existing));
    }

    [Fact]
    public void ToDrop_ShortRetention_NeverTheCurrentMonth()
        => Assert.DoesNotContain(new MonthPartition(2026, 11), PartitionPlan.ToDrop(Now, 1, [new MonthPartition(2026, 10), new MonthPartition(2026, 11)]));

    [Fact]
    public void MonthPartition_BoundsAndLiterals()
    {
        var december = new MonthPartition(2026, 12);

        Assert.Equal(new DateTimeOffset(2026, 12, 1, 0, 0, 0, TimeSpan.Zero), december.From);
        Assert.Equal(new DateTimeOffset(2027, 1, 1, 0, 0, 0, TimeSpan.Zero), december.To);
        Assert.Equal("2027-01-01 00:00:00+00", MonthPartition.Literal(december.To));
    }

    [Theory]
    [InlineData("audit_logs_y2026m11", true)]
    [InlineData("audit_logs_y2026m13", false)]
    [InlineData("audit_logs_default", false)]
    [InlineData("audit_logs_y2026m1", false)]
    [InlineData("audit_logs_y2026m011", false)]
    [InlineData("archive_y2026m11", false)]
    public void TryParseName_OnlyOurOwnNames(string name, bool ours)
    {
        Assert.Equal(ours, MonthPartition.TryParseName(name, out var partition));
        if (ours)
        {
            Assert.Equal(name, partition.Name);
        }
    }
}
