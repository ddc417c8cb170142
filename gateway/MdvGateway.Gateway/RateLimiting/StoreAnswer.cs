namespace MdvGateway.Gateway.RateLimiting;

/// <summary>What the store said about one request.</summary>
/// <param name="Status">Whether Redis answered (<see cref="StoreStatus.Ok"/>) and, if not, why.</param>
/// <param name="Outcomes">One outcome per limit of the policy, in policy order; empty unless <see cref="StoreStatus.Ok"/>.</param>
/// <param name="StrikeCounted">Whether the refusal was already counted as a strike by the same call.</param>
/// <param name="Ban">The ban that strike earned, when it reached <c>StrikesBeforeBan</c>; issued by the caller.</param>
internal readonly record struct StoreAnswer(StoreStatus Status, LimitOutcome[] Outcomes, bool StrikeCounted, EarnedBan? Ban)
{
    public static StoreAnswer Unanswered(StoreStatus status) => new(status, [], false, null);
}

internal enum StoreStatus
{
    /// <summary>Redis decided.</summary>
    Ok,

    /// <summary>The call failed or timed out: a Redis failure, counted by the circuit breaker once per call.</summary>
    Failed,

    /// <summary>
    /// The request used up its <c>Redis:TimeoutMs</c> waiting for the call ahead of it and was never sent: not a Redis
    /// failure of its own.
    /// </summary>
    Expired,
}

/// <summary>A ban that strikes earned, decided by Redis in the same call that counted them.</summary>
/// <param name="Level">The client's offense level (1 = first ban).</param>
/// <param name="Duration">The rung of the ladder for that level.</param>
/// <param name="Strikes">The strikes counted in the window when the ban was earned.</param>
/// <param name="At">Redis's clock at that moment.</param>
internal sealed record EarnedBan(int Level, TimeSpan Duration, int Strikes, DateTimeOffset At);
