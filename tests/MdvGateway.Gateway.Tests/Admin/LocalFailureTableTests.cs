using MdvGateway.Gateway.Admin;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class LocalFailureTableTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    private static string Address(int i) => $"10.{(i >> 16) & 255}.{(i >> 8) & 255}.{i & 255}";

    [Fact]
    public void RecordFailure_UpToTheLimit_LocksOutForTheRestOfTheWindow()
    {
        var time = new FakeTimeProvider();
        var table = new LocalFailureTable(time);

        for (var i = 1; i < 3; i++)
        {
            Assert.Null(table.RecordFailure("10.0.0.1", 3, Window));
            Assert.Null(table.LockedOutFor("10.0.0.1"));
        }

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(40), table.RecordFailure("10.0.0.1", 3, Window));
        Assert.Equal(TimeSpan.FromSeconds(40), table.LockedOutFor("10.0.0.1"));
        Assert.Null(table.LockedOutFor("10.0.0.2"));

        time.Advance(TimeSpan.FromSeconds(40));
        Assert.Null(table.LockedOutFor("10.0.0.1"));
        Assert.Null(table.RecordFailure("10.0.0.1", 3, Window));
    }

    [Fact]
    public void RecordFailure_WindowPassedWithoutReachingTheLimit_StartsCountingAgain()
    {
        var time = new FakeTimeProvider();
        var table = new LocalFailureTable(time);

        table.RecordFailure("10.0.0.1", 2, Window);
        time.Advance(Window);

        Assert.Null(table.RecordFailure("10.0.0.1", 2, Window));
        Assert.NotNull(table.RecordFailure("10.0.0.1", 2, Window));
    }

    [Fact]
    public void RememberLockout_LastsItsDurationAndNeverShortensALongerOne()
    {
        var time = new FakeTimeProvider();
        var table = new LocalFailureTable(time);

        table.RememberLockout("10.0.0.1", TimeSpan.FromSeconds(30));
        table.RememberLockout("10.0.0.1", TimeSpan.FromSeconds(10));

        Assert.Equal(TimeSpan.FromSeconds(30), table.LockedOutFor("10.0.0.1"));
        Assert.Null(table.LockedOutFor("10.0.0.2"));
        time.Advance(TimeSpan.FromSeconds(30));
        Assert.Null(table.LockedOutFor("10.0.0.1"));
    }

    [Fact]
    public void RecordFailure_AfterARememberedLockout_KeepsTheLongerOfTheTwo()
    {
        var time = new FakeTimeProvider();
        var table = new LocalFailureTable(time);

        table.RememberLockout("10.0.0.1", TimeSpan.FromMinutes(5));

        Assert.Equal(TimeSpan.FromMinutes(5), table.RecordFailure("10.0.0.1", 1, Window));
    }

    [Fact]
    public void LockedOutFor_UnknownAddresses_AddsNothing()
    {
        var table = new LocalFailureTable(new FakeTimeProvider());

        for (var i = 0; i < 100; i++)
        {
            Assert.Null(table.LockedOutFor(Address(i)));
        }

        Assert.Equal(0, table.TrackedClients);
    }

    [Fact]
    public void RecordFailure_SprayFrom20000AddressesEachLockedOut_NeverLocksOutAnAddressThatDidNotFail()
    {
        var time = new FakeTimeProvider();
        var table = new LocalFailureTable(time);

        for (var i = 0; i < 20_000; i++)
        {
            Assert.Equal(Window, table.RecordFailure(Address(i), 1, Window));
        }

        Assert.Equal(LocalFailureTable.MaxTrackedClients, table.TrackedClients);
        Assert.Null(table.LockedOutFor("192.0.2.1"));
        Assert.Null(table.RecordFailure("192.0.2.1", 2, Window));
        Assert.Null(table.LockedOutFor("192.0.2.1"));

        // The most recent addresses are still held, locked out.
        Assert.Equal(Window, table.LockedOutFor(Address(19_999)));
    }

    [Fact]
    public void RecordFailure_PastCapacity_EvictsTheAddressThatEnteredFirst()
    {
        var time = new FakeTimeProvider();
        var table = new LocalFailureTable(time, capacity: 3);

        table.RememberLockout("10.0.0.1", Window);
        table.RememberLockout("10.0.0.2", Window);
        table.RememberLockout("10.0.0.3", Window);
        table.RememberLockout("10.0.0.2", Window);
        table.RecordFailure("10.0.0.4", 1, Window);

        Assert.Equal(3, table.TrackedClients);
        Assert.Null(table.LockedOutFor("10.0.0.1"));
        Assert.NotNull(table.LockedOutFor("10.0.0.2"));
        Assert.NotNull(table.LockedOutFor("10.0.0.3"));
        Assert.NotNull(table.LockedOutFor("10.0.0.4"));
    }

    [Fact]
    public async Task RecordFailure_ConcurrentSprayPastCapacity_StaysBounded()
    {
        var table = new LocalFailureTable(new FakeTimeProvider(), capacity: 1_000);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(worker => Task.Run(() =>
        {
            for (var i = 0; i < 5_000; i++)
            {
                table.RecordFailure(Address((worker * 5_000) + i), 3, Window);
            }
        })));

        Assert.Equal(1_000, table.TrackedClients);
    }
}
