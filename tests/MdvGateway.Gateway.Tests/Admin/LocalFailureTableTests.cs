using MdvGateway.Gateway.Admin;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class FailedAuthenticationLimiterTests
{
    private static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    [Fact]
    public void RecordFailure_UpToTheLimit_LocksOutForTheRestOfTheWindow()
    {
        var time = new FakeTimeProvider();
        var limiter = new FailedAuthenticationLimiter(time);

        for (var i = 1; i < 3; i++)
        {
            Assert.Null(limiter.RecordFailure("10.0.0.1", 3, Window));
            Assert.Null(limiter.LockedOutFor("10.0.0.1", 3, Window));
        }

        time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(TimeSpan.FromSeconds(40), limiter.RecordFailure("10.0.0.1", 3, Window));
        Assert.Equal(TimeSpan.FromSeconds(40), limiter.LockedOutFor("10.0.0.1", 3, Window));
        Assert.Null(limiter.LockedOutFor("10.0.0.2", 3, Window));

        time.Advance(TimeSpan.FromSeconds(40));
        Assert.Null(limiter.LockedOutFor("10.0.0.1", 3, Window));
        Assert.Null(limiter.RecordFailure("10.0.0.1", 3, Window));
    }

    [Fact]
    public void RecordFailure_WindowPassedWithoutReachingTheLimit_StartsCountingAgain()
    {
        var time = new FakeTimeProvider();
        var limiter = new FailedAuthenticationLimiter(time);

        limiter.RecordFailure("10.0.0.1", 2, Window);
        time.Advance(Window);

        Assert.Null(limiter.RecordFailure("10.0.0.1", 2, Window));
        Assert.NotNull(limiter.RecordFailure("10.0.0.1", 2, Window));
    }

    [Fact]
    public void RecordFailure_ManyAddresses_MemoryStaysBounded()
    {
        var time = new FakeTimeProvider();
        var limiter = new FailedAuthenticationLimiter(time);

        for (var i = 0; i < FailedAuthenticationLimiter.MaxTrackedClients + 500; i++)
        {
            limiter.RecordFailure($"10.{i >> 16 & 255}.{i >> 8 & 255}.{i & 255}", 10, Window);
        }

        Assert.True(limiter.TrackedClients <= FailedAuthenticationLimiter.MaxTrackedClients + 1);

        // Once the old windows have ended, they make room for new addresses.
        time.Advance(Window);
        limiter.RecordFailure("192.0.2.1", 10, Window);
        Assert.True(limiter.TrackedClients < 10);
    }
}
