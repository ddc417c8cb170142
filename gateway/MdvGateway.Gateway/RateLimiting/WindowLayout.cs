namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// How a limit's sliding window is kept in Redis: <see cref="SubWindows"/> counters per window instead of one entry per
/// request, so the memory a client costs does not grow with its limit (a limit of 100,000 a day keeps at most
/// <see cref="SubWindows"/> + 2 small counters). The arithmetic here is the one <c>decide.lua</c> does with Redis's clock.
/// </summary>
/// <remarks>
/// <para>
/// A request admitted at <c>t</c> is counted in sub-window <c>floor(t / granularity)</c>. At time <c>now</c>, every
/// sub-window from <c>floor((now - window) / granularity)</c> on counts, including the one that holds
/// <c>now - window</c> whole. So an admission holds its permit for at least the window and at most the window plus one
/// granularity.
/// </para>
/// <para>
/// The rule that holds across all nodes: never more than the limit admitted in any interval of one window. The cost of
/// the counters is bounded under-admission: a permit comes back at most one granularity (a twentieth of the window)
/// later than an exact log of timestamps would give it back.
/// </para>
/// </remarks>
internal static class WindowLayout
{
    /// <summary>Sub-windows per window; the granularity is the window divided by this, rounded up to a millisecond.</summary>
    public const int SubWindows = 20;

    /// <summary>The length of one sub-window in milliseconds (at least 1).</summary>
    public static long GranularityMs(TimeSpan window)
        => Math.Max(1, (long)Math.Ceiling(window.TotalMilliseconds / SubWindows));

    /// <summary>The sub-window a moment falls in.</summary>
    public static long SubWindowOf(long unixMs, long granularityMs) => FloorDiv(unixMs, granularityMs);

    /// <summary>The oldest sub-window that still counts at <paramref name="nowMs"/>.</summary>
    public static long OldestCounted(long nowMs, long windowMs, long granularityMs) => FloorDiv(nowMs - windowMs, granularityMs);

    /// <summary>When a sub-window stops counting: its end plus the window.</summary>
    public static long LeavesAt(long subWindow, long windowMs, long granularityMs) => ((subWindow + 1) * granularityMs) + windowMs;

    /// <summary>The longest a permit can stay counted after the request it admitted.</summary>
    public static TimeSpan LongestHold(TimeSpan window) => window + TimeSpan.FromMilliseconds(GranularityMs(window));

    private static long FloorDiv(long value, long divisor) => (long)Math.Floor((double)value / divisor);
}
