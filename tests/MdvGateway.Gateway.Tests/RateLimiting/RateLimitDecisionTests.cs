using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.RateLimiting;

public sealed class RateLimitDecisionTests
{
    private static readonly RateLimit Burst = new("api-1s", 10, TimeSpan.FromSeconds(1));
    private static readonly RateLimit Minute = new("api-60s", 100, TimeSpan.FromMinutes(1));
    private static readonly RateLimit Hourly = new("api-3600s", 1000, TimeSpan.FromHours(1));
    private static readonly RateLimitPolicy Policy = new("api", [Burst, Minute, Hourly], PartitionBy.ClientIp, RateLimitMode.Enforce);

    private static RateLimitDecision Decision(params LimitOutcome[] outcomes)
        => new(Policy, RateLimitVerdict.Rejected, DecisionSource.Redis, outcomes);

    [Fact]
    public void RetryAfter_SeveralRejections_IsLongest()
    {
        var decision = Decision(
            LimitOutcome.Rejected(Burst, TimeSpan.FromSeconds(1)),
            LimitOutcome.Admitted(Minute, 50),
            LimitOutcome.Rejected(Hourly, TimeSpan.FromMinutes(20)));

        Assert.Equal(TimeSpan.FromMinutes(20), decision.RetryAfter);
        Assert.Same(Hourly, decision.RejectingLimit);
    }

    [Fact]
    public void RetryAfter_LongestRejectionFirst_IsStillLongest()
    {
        var decision = Decision(
            LimitOutcome.Rejected(Burst, TimeSpan.FromSeconds(40)),
            LimitOutcome.Rejected(Minute, TimeSpan.FromSeconds(2)),
            LimitOutcome.Admitted(Hourly, 7));

        Assert.Equal(TimeSpan.FromSeconds(40), decision.RetryAfter);
        Assert.Same(Burst, decision.RejectingLimit);
    }

    [Fact]
    public void RetryAfter_AdmittedOutcomeWithLongerWait_IsIgnored()
    {
        var decision = Decision(
            new LimitOutcome(Burst, Acquired: true, Remaining: 3, RetryAfter: TimeSpan.FromHours(5)),
            LimitOutcome.Rejected(Minute, TimeSpan.FromSeconds(3)));

        Assert.Equal(TimeSpan.FromSeconds(3), decision.RetryAfter);
        Assert.Same(Minute, decision.RejectingLimit);
    }

    [Fact]
    public void RetryAfter_AllAdmitted_IsZeroWithoutRejectingLimit()
    {
        var decision = Decision(LimitOutcome.Admitted(Burst, 9), LimitOutcome.Admitted(Minute, 99), LimitOutcome.Admitted(Hourly, 999));

        Assert.Equal(TimeSpan.Zero, decision.RetryAfter);
        Assert.Null(decision.RejectingLimit);
    }

    [Fact]
    public void RetryAfter_NoOutcomes_IsZero()
    {
        var decision = new RateLimitDecision(Policy, RateLimitVerdict.RejectedWithoutStore, DecisionSource.None, []);

        Assert.Equal(TimeSpan.Zero, decision.RetryAfter);
        Assert.Null(decision.RejectingLimit);
    }

    [Fact]
    public void Constructor_KeepsWhatItWasGiven()
    {
        LimitOutcome[] outcomes = [LimitOutcome.Admitted(Burst, 9)];

        var decision = new RateLimitDecision(Policy, RateLimitVerdict.ShadowRejected, DecisionSource.LocalFallback, outcomes);

        Assert.Same(Policy, decision.Policy);
        Assert.Equal(RateLimitVerdict.ShadowRejected, decision.Verdict);
        Assert.Equal(DecisionSource.LocalFallback, decision.Source);
        Assert.Same(outcomes, decision.Outcomes);
    }
}
