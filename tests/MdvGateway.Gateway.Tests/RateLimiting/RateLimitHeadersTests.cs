using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.RateLimiting;

public sealed class RateLimitHeadersTests
{
    private static readonly RateLimit Auth = new("auth", 5, TimeSpan.FromMinutes(1));
    private static readonly RateLimit Burst = new("api-1s", 10, TimeSpan.FromSeconds(1));
    private static readonly RateLimit Hourly = new("api-3600s", 1000, TimeSpan.FromHours(1));

    [Fact]
    public void HeaderNames_AreTheDraftFieldNames()
    {
        Assert.Equal("RateLimit-Policy", RateLimitHeaders.PolicyHeader);
        Assert.Equal("RateLimit", RateLimitHeaders.RateLimitHeader);
    }

    [Fact]
    public void FormatPolicy_OneLimit_MatchesContract()
    {
        Assert.Equal("\"auth\";q=5;w=60", RateLimitHeaders.FormatPolicy([Auth]));
    }

    [Fact]
    public void FormatPolicy_SeveralLimits_CommaSeparatedInOrder()
    {
        Assert.Equal("\"api-1s\";q=10;w=1, \"api-3600s\";q=1000;w=3600", RateLimitHeaders.FormatPolicy([Burst, Hourly]));
    }

    [Fact]
    public void FormatPolicy_FractionalWindow_RoundsUp()
    {
        Assert.Equal("\"p\";q=3;w=2", RateLimitHeaders.FormatPolicy([new RateLimit("p", 3, TimeSpan.FromMilliseconds(1500))]));
    }

    [Fact]
    public void FormatPolicy_NoLimits_IsEmpty()
    {
        Assert.Equal(string.Empty, RateLimitHeaders.FormatPolicy([]));
    }

    [Fact]
    public void FormatRemaining_OneRejection_MatchesContract()
    {
        var outcome = LimitOutcome.Rejected(Auth, TimeSpan.FromSeconds(11.2));

        Assert.Equal("\"auth\";r=0;t=12", RateLimitHeaders.FormatRemaining([outcome]));
    }

    [Fact]
    public void FormatRemaining_OneAdmission_StatesRemainingAndWindow()
    {
        var outcome = LimitOutcome.Admitted(Auth, 4);

        Assert.Equal("\"auth\";r=4;t=60", RateLimitHeaders.FormatRemaining([outcome]));
    }

    [Fact]
    public void FormatRemaining_SeveralLimits_CommaSeparatedInOrder()
    {
        LimitOutcome[] outcomes = [LimitOutcome.Admitted(Burst, 9), LimitOutcome.Rejected(Hourly, TimeSpan.FromSeconds(120))];

        Assert.Equal("\"api-1s\";r=9;t=1, \"api-3600s\";r=0;t=120", RateLimitHeaders.FormatRemaining(outcomes));
    }

    [Fact]
    public void FormatRemaining_NoOutcomes_IsEmpty()
    {
        Assert.Equal(string.Empty, RateLimitHeaders.FormatRemaining([]));
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(-5_000, 1)]
    [InlineData(1, 1)]
    [InlineData(999, 1)]
    [InlineData(1_000, 1)]
    [InlineData(1_001, 2)]
    [InlineData(11_200, 12)]
    [InlineData(12_000, 12)]
    [InlineData(3_600_000, 3600)]
    public void ToDeltaSeconds_RoundsUpNeverBelowOne(int milliseconds, long expected)
    {
        Assert.Equal(expected, RateLimitHeaders.ToDeltaSeconds(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [Fact]
    public void ToDeltaSeconds_OneTick_IsOneSecond()
    {
        Assert.Equal(1, RateLimitHeaders.ToDeltaSeconds(TimeSpan.FromTicks(1)));
    }

    [Fact]
    public void ToDeltaSeconds_JustOverOneSecond_IsTwo()
    {
        Assert.Equal(2, RateLimitHeaders.ToDeltaSeconds(TimeSpan.FromSeconds(1) + TimeSpan.FromTicks(1)));
    }
}
