namespace MdvGateway.Gateway.RateLimiting;

/// <summary>The shared counters behind the policies. Implementations never throw: a failure is an answer's status.</summary>
internal interface IRateLimitStore
{
    /// <summary>
    /// Counts one request against every limit of <paramref name="policy"/> for <paramref name="partition"/> if all of them
    /// admit it (a refused request is counted by none). With <paramref name="strikeClient"/>, a refusal is also a strike
    /// against that client key, counted in the same call.
    /// </summary>
    ValueTask<StoreAnswer> DecideAsync(RateLimitPolicy policy, LimitPartition partition, string? strikeClient);
}
