using MdvGateway.Gateway.RateLimiting;

namespace MdvGateway.Gateway.Tests.RateLimiting;

/// <summary>The sub-window arithmetic <c>decide.lua</c> does with Redis's clock, and the bound it costs.</summary>
public sealed class WindowLayoutTests
{
    [Theory]
    [InlineData("00:00:01", 50)]
    [InlineData("00:01:00", 3_000)]
    [InlineData("01:00:00", 180_000)]
    [InlineData("1.00:00:00", 4_320_000)]
    [InlineData("00:00:00.007", 1)]
    [InlineData("00:00:00.021", 2)]
    public void Granularity_IsAWindowOver20_RoundedUpToAMillisecond(string window, long expected)
        => Assert.Equal(expected, WindowLayout.GranularityMs(TimeSpan.Parse(window, System.Globalization.CultureInfo.InvariantCulture)));

    [Fact]
    public void EveryAdmission_IsCountedForAtLeastTheWindow_AndAtMostOneGranularityMore()
    {
        const long window = 1_000;
        var granularity = WindowLayout.GranularityMs(TimeSpan.FromMilliseconds(window));
        for (var admittedAt = 1_765_000_000_000L; admittedAt < 1_765_000_000_000L + (3 * granularity); admittedAt += 7)
        {
            var field = WindowLayout.SubWindowOf(admittedAt, granularity);
            var leavesAt = WindowLayout.LeavesAt(field, window, granularity);

            // Still counted just before it leaves, no longer counted at that moment.
            Assert.True(WindowLayout.OldestCounted(leavesAt - 1, window, granularity) <= field);
            Assert.True(WindowLayout.OldestCounted(leavesAt, window, granularity) > field);
            Assert.InRange(leavesAt - admittedAt, window + 1, window + granularity);
        }
    }

    [Fact]
    public void AnyIntervalOfOneWindow_SeesEveryAdmissionInIt_Counted()
    {
        // The rule that holds across nodes: a request at `now` counts every admission after now - window.
        const long window = 60_000;
        var granularity = WindowLayout.GranularityMs(TimeSpan.FromMilliseconds(window));
        var now = 1_765_000_123_457L;
        var oldest = WindowLayout.OldestCounted(now, window, granularity);
        for (var admittedAt = now - window + 1; admittedAt <= now; admittedAt += 997)
        {
            Assert.True(WindowLayout.SubWindowOf(admittedAt, granularity) >= oldest, $"an admission {now - admittedAt} ms old was not counted");
        }
    }

    [Fact]
    public void LongestHold_IsTheWindowPlusOneGranularity()
        => Assert.Equal(TimeSpan.FromSeconds(63), WindowLayout.LongestHold(TimeSpan.FromMinutes(1)));
}
