using MdvGateway.Gateway.Diagnostics;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Diagnostics;

public sealed class LogBudgetTests
{
    private readonly FakeTimeProvider _time = new();

    [Fact]
    public void AStorm_LogsTheBudget_ThenOneCountPerInterval()
    {
        var budget = new LogBudget(3, TimeSpan.FromSeconds(1), _time);

        var written = Enumerable.Range(0, 10).Count(_ => budget.TryTake());

        Assert.Equal(3, written);
        Assert.Equal(0, budget.TakeSuppressed()); // the interval is not over yet
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(7, budget.TakeSuppressed());
        Assert.Equal(0, budget.TakeSuppressed()); // reported once
    }

    [Fact]
    public void AfterTheCountIsTaken_ANewIntervalHasTheWholeBudget()
    {
        var budget = new LogBudget(2, TimeSpan.FromSeconds(1), _time);
        _ = Enumerable.Range(0, 5).Count(_ => budget.TryTake());
        _time.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(3, budget.TakeSuppressed());

        Assert.True(budget.TryTake());
        Assert.True(budget.TryTake());
        Assert.False(budget.TryTake());
    }

    [Fact]
    public void QuietTraffic_IsNeverSuppressed()
    {
        var budget = new LogBudget(2, TimeSpan.FromSeconds(1), _time);

        for (var i = 0; i < 20; i++)
        {
            Assert.True(budget.TryTake());
            _time.Advance(TimeSpan.FromMilliseconds(600));
        }

        Assert.Equal(0, budget.TakeSuppressed());
    }

    [Fact]
    public void SuppressedLines_AreNotForgotten_WhenTheNextLineComesLate()
    {
        var budget = new LogBudget(1, TimeSpan.FromSeconds(1), _time);
        Assert.True(budget.TryTake());
        Assert.False(budget.TryTake());
        _time.Advance(TimeSpan.FromSeconds(5));

        // No TakeSuppressed in between: the interval does not restart and hide the count.
        Assert.False(budget.TryTake());
        Assert.Equal(2, budget.TakeSuppressed());
    }
}
