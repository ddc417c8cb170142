namespace MdvGateway.Gateway.RateLimiting;

/// <summary>The verdict of one policy on one request, with what each of its limits said.</summary>
internal sealed class RateLimitDecision
{
    public RateLimitDecision(RateLimitPolicy policy, RateLimitVerdict verdict, DecisionSource source, LimitOutcome[] outcomes)
    {
        Policy = policy;
        Verdict = verdict;
        Source = source;
        Outcomes = outcomes;
    }

    public RateLimitPolicy Policy { get; }

    public RateLimitVerdict Verdict { get; }

    public DecisionSource Source { get; }

    /// <summary>Whether the store counted this refusal as a strike in the call that decided it.</summary>
    public bool StrikeCounted { get; init; }

    /// <summary>The ban the strike earned, decided in the same call; the caller issues it.</summary>
    public EarnedBan? Ban { get; init; }

    /// <summary>One entry per limit of the policy, in policy order; empty when the store could not be asked.</summary>
    public LimitOutcome[] Outcomes { get; }

    /// <summary>The longest wait among the limits that rejected (a client must satisfy all of them).</summary>
    public TimeSpan RetryAfter
    {
        get
        {
            var longest = TimeSpan.Zero;
            foreach (var outcome in Outcomes)
            {
                if (!outcome.Acquired && outcome.RetryAfter > longest)
                {
                    longest = outcome.RetryAfter;
                }
            }

            return longest;
        }
    }

    /// <summary>The limit that rejected with the longest wait, for messages.</summary>
    public RateLimit? RejectingLimit => Outcomes.Where(o => !o.Acquired).OrderByDescending(o => o.RetryAfter).Select(o => o.Limit).FirstOrDefault();
}

internal enum RateLimitVerdict
{
    /// <summary>Every limit admitted the request.</summary>
    Admitted,

    /// <summary>A limit rejected it; answered 429.</summary>
    Rejected,

    /// <summary>A limit of a <c>Shadow</c> policy would have rejected it; admitted and reported.</summary>
    ShadowRejected,

    /// <summary>The store was unavailable and <c>WhenStoreUnavailable</c> is <c>Allow</c>.</summary>
    AllowedWithoutStore,

    /// <summary>The store was unavailable and <c>WhenStoreUnavailable</c> is <c>Reject</c>; answered 503.</summary>
    RejectedWithoutStore,
}

internal enum DecisionSource
{
    Redis,
    OverLimitCache,
    LocalFallback,
    None,
}
