using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.RateLimiting;

// The limiter runs on real time; windows of an hour keep every test far from a replenishment, and only counts are asserted.
public sealed class LocalFallbackLimiterTests
{
    private static readonly RateLimit ThreePerHour = new("auth", 3, TimeSpan.FromHours(1));

    [Fact]
    public void Acquire_UpToPermitLimit_AdmitsWithDecreasingRemaining()
    {
        using var limiter = new LocalFallbackLimiter();

        var outcomes = Enumerable.Range(0, 3).Select(_ => limiter.Acquire("203.0.113.5", ThreePerHour)).ToList();

        Assert.All(outcomes, o => Assert.True(o.Acquired));
        Assert.Equal([2L, 1L, 0L], outcomes.Select(o => o.Remaining));
        Assert.All(outcomes, o => Assert.Same(ThreePerHour, o.Limit));
    }

    [Fact]
    public void Acquire_BeyondPermitLimit_RejectsWithRetryAfter()
    {
        using var limiter = new LocalFallbackLimiter();
        for (var i = 0; i < 3; i++)
        {
            limiter.Acquire("203.0.113.5", ThreePerHour);
        }

        var rejected = limiter.Acquire("203.0.113.5", ThreePerHour);
        var again = limiter.Acquire("203.0.113.5", ThreePerHour);

        Assert.False(rejected.Acquired);
        Assert.False(again.Acquired);
        Assert.Equal(0, rejected.Remaining);
        Assert.True(rejected.RetryAfter > TimeSpan.Zero);
        Assert.True(rejected.RetryAfter <= ThreePerHour.Window);
    }

    [Fact]
    public void Acquire_SeparatePartitions_AreIndependent()
    {
        using var limiter = new LocalFallbackLimiter();
        for (var i = 0; i < 3; i++)
        {
            limiter.Acquire("203.0.113.5", ThreePerHour);
        }

        var other = limiter.Acquire("203.0.113.6", ThreePerHour);

        Assert.True(other.Acquired);
        Assert.Equal(2, other.Remaining);
        Assert.False(limiter.Acquire("203.0.113.5", ThreePerHour).Acquired);
    }

    [Fact]
    public void Acquire_LimitChangedByReload_StartsFreshWindow()
    {
        using var limiter = new LocalFallbackLimiter();
        for (var i = 0; i < 3; i++)
        {
            limiter.Acquire("203.0.113.5", ThreePerHour);
        }

        var raised = limiter.Acquire("203.0.113.5", ThreePerHour with { PermitLimit = 5 });

        Assert.True(raised.Acquired);
        Assert.Equal(4, raised.Remaining);
    }

    [Fact]
    public void Acquire_PermitLimitOne_AdmitsOnceThenRejects()
    {
        using var limiter = new LocalFallbackLimiter();
        var once = new RateLimit("once", 1, TimeSpan.FromHours(1));

        Assert.True(limiter.Acquire("p", once).Acquired);
        Assert.False(limiter.Acquire("p", once).Acquired);
    }
}
