using MdvGateway.Gateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.RateLimiting;

/// <summary>Reserves on one node: taken in order, only while usable, sized to what was used, bounded, given back.</summary>
public sealed class ReservationTableTests
{
    private static readonly RateLimitPolicy Policy = new("api", [new RateLimit("api", 1000, TimeSpan.FromMinutes(1))], PartitionBy.ClientIp, RateLimitMode.Enforce);
    private static readonly LimitPartition Client = LimitPartition.Of("203.0.113.5", "203.0.113.5");

    private readonly FakeTimeProvider _time = new();
    private readonly ReservationTable _table;

    public ReservationTableTests() => _table = new ReservationTable(_time);

    private Reservation Reserve(int count, long remainingBefore = 900, RateLimitPolicy? policy = null)
        => new(policy ?? Policy, Client, count, [42], [remainingBefore], _time.GetTimestamp());

    [Fact]
    public void Permits_AreTakenInOrder_WithTheRemainingCountsACallOfTheirOwnWouldReport()
    {
        Assert.True(_table.TryInstall(Reserve(3), out _));

        var remaining = new List<long>();
        for (var i = 0; i < 3; i++)
        {
            Assert.True(_table.TryTake(Policy, Client, out var outcomes, out _, out _));
            remaining.Add(Assert.Single(outcomes!).Remaining);
        }

        Assert.Equal([899, 898, 897], remaining);
        Assert.False(_table.TryTake(Policy, Client, out _, out var wanted, out var spent));
        Assert.Equal(6, wanted);
        Assert.Equal(0, spent.Unused);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void AnExpiredReserve_ServesNobody_AndHandsBackWhatWasNotTaken()
    {
        Assert.True(_table.TryInstall(Reserve(10), out _));
        Assert.True(_table.TryTake(Policy, Client, out _, out _, out _));

        _time.Advance(ReservationTable.ReserveFor);

        Assert.False(_table.TryTake(Policy, Client, out _, out var wanted, out var spent));
        Assert.Equal(9, spent.Unused);
        Assert.Equal(2, wanted);
    }

    [Fact]
    public void AReserveLongGone_AsksForNothing()
    {
        Assert.True(_table.TryInstall(Reserve(10), out _));
        _time.Advance(ReservationTable.ReserveFor * 3);

        Assert.False(_table.TryTake(Policy, Client, out _, out var wanted, out var spent));
        Assert.Equal(0, wanted);
        Assert.Equal(10, spent.Unused);
    }

    [Fact]
    public void AReserveOfAnOlderPolicy_ServesNobody()
    {
        // A reload builds new policy instances: a reserve counted under the old limit must not admit under the new one.
        var reloaded = new RateLimitPolicy("api", [new RateLimit("api", 10, TimeSpan.FromMinutes(1))], PartitionBy.ClientIp, RateLimitMode.Enforce);
        Assert.True(_table.TryInstall(Reserve(10), out _));

        Assert.False(_table.TryTake(reloaded, Client, out _, out var wanted, out var spent));
        Assert.Equal(0, wanted);
        Assert.Equal(10, spent.Unused);
    }

    [Fact]
    public void ANewReserve_ReplacesTheOld_WhoseUnusedPermitsAreHandedBack()
    {
        Assert.True(_table.TryInstall(Reserve(5), out _));
        Assert.True(_table.TryInstall(Reserve(7), out var replaced));

        Assert.Equal(5, replaced.Unused);
        Assert.Equal(1, _table.Count);
    }

    [Fact]
    public void TakeExpired_RemovesOnlyReservesPastTheirTime()
    {
        Assert.True(_table.TryInstall(Reserve(5), out _));
        Assert.Empty(_table.TakeExpired());

        _time.Advance(ReservationTable.ReserveFor);
        var expired = Assert.Single(_table.TakeExpired());

        Assert.Equal(5, expired.Unused);
        Assert.Equal(0, _table.Count);
    }

    [Fact]
    public void TheTable_IsBounded()
    {
        for (var i = 0; i < ReservationTable.MaxPartitions; i++)
        {
            var partition = LimitPartition.Of($"c{i}", $"c{i}");
            Assert.True(_table.TryInstall(new Reservation(Policy, partition, 1, [1], [1], _time.GetTimestamp()), out _));
        }

        Assert.False(_table.TryInstall(Reserve(3), out _));
        Assert.Equal(ReservationTable.MaxPartitions, _table.Count);
    }
}
