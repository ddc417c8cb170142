using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.RateLimiting;

public sealed class LimitOutcomeTests
{
    private static readonly RateLimit Auth = new("auth", 5, TimeSpan.FromMinutes(1));

    [Fact]
    public void Admitted_ResetSeconds_IsWindow()
    {
        var outcome = LimitOutcome.Admitted(Auth, 3);

        Assert.True(outcome.Acquired);
        Assert.Equal(3, outcome.Remaining);
        Assert.Equal(TimeSpan.Zero, outcome.RetryAfter);
        Assert.Equal(60, outcome.ResetSeconds);
    }

    [Fact]
    public void Admitted_FractionalWindow_ResetSecondsRoundsUp()
    {
        var outcome = LimitOutcome.Admitted(new RateLimit("p", 1, TimeSpan.FromMilliseconds(1500)), 0);

        Assert.Equal(2, outcome.ResetSeconds);
    }

    [Fact]
    public void Rejected_ResetSeconds_IsRetryAfterRoundedUp()
    {
        var outcome = LimitOutcome.Rejected(Auth, TimeSpan.FromSeconds(11.2));

        Assert.False(outcome.Acquired);
        Assert.Equal(0, outcome.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(11.2), outcome.RetryAfter);
        Assert.Equal(12, outcome.ResetSeconds);
    }

    [Fact]
    public void Rejected_ZeroRetryAfter_ResetSecondsIsOne()
    {
        Assert.Equal(1, LimitOutcome.Rejected(Auth, TimeSpan.Zero).ResetSeconds);
    }

    [Fact]
    public void Rejected_ResetSeconds_DoesNotUseWindow()
    {
        Assert.Equal(3, LimitOutcome.Rejected(Auth, TimeSpan.FromSeconds(3)).ResetSeconds);
    }
}
