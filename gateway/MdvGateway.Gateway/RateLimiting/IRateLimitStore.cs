namespace MdvGateway.Gateway.RateLimiting;

/// <summary>The shared counter behind a limit. Implementations throw when the store cannot answer.</summary>
internal interface IRateLimitStore
{
    /// <summary>Counts one request against <paramref name="partition"/> if <paramref name="limit"/> admits it.</summary>
    Task<LimitOutcome> AcquireAsync(string partition, RateLimit limit);
}
