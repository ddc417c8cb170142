namespace MdvGateway.Gateway.RateLimiting;

/// <summary>What one limit said about one request.</summary>
/// <param name="Limit">The limit evaluated.</param>
/// <param name="Acquired">Whether the limit admitted the request.</param>
/// <param name="Remaining">Requests this partition may still make in the window after this one.</param>
/// <param name="RetryAfter">For a rejection, the time until the oldest request leaves the window; zero otherwise.</param>
internal readonly record struct LimitOutcome(RateLimit Limit, bool Acquired, long Remaining, TimeSpan RetryAfter)
{
    public static LimitOutcome Admitted(RateLimit limit, long remaining) => new(limit, true, remaining, TimeSpan.Zero);

    public static LimitOutcome Rejected(RateLimit limit, TimeSpan retryAfter) => new(limit, false, 0, retryAfter);

    /// <summary>
    /// The <c>t</c> of the <c>RateLimit</c> header: for a rejection the whole seconds until a request can succeed;
    /// for an admission the window, after which the whole quota is available again.
    /// </summary>
    public long ResetSeconds => Acquired ? Limit.WindowSeconds : RateLimitHeaders.ToDeltaSeconds(RetryAfter);
}
