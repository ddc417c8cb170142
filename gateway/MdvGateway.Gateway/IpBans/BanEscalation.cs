namespace MdvGateway.Gateway.IpBans;

/// <summary>The ban ladder, as pure arithmetic.</summary>
internal static class BanEscalation
{
    /// <summary>The duration of a client's <paramref name="level"/>-th ban (1-based); the last rung repeats.</summary>
    public static TimeSpan DurationFor(int level, IReadOnlyList<TimeSpan> ladder)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(level, 1);
        ArgumentOutOfRangeException.ThrowIfZero(ladder.Count);
        return ladder[Math.Min(level, ladder.Count) - 1];
    }

    /// <summary>
    /// How long the offense count is kept after a ban starts: the ban itself plus <c>ForgetOffensesAfter</c>, so
    /// that the count resets only after that long without a ban.
    /// </summary>
    public static TimeSpan OffenseMemory(TimeSpan banDuration, TimeSpan forgetOffensesAfter) => banDuration + forgetOffensesAfter;
}
