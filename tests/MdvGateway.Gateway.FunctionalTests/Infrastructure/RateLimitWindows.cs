using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>Reads a limit's window the way the engine lays it out (see <c>decide.lua</c>).</summary>
internal static class RateLimitWindows
{
    /// <summary>The key of a limit's window for an address partition (the bucket of the client key).</summary>
    public static string Key(string prefix, string policy, string limit, string partition)
        => RedisKeys.RateLimitWindow(prefix, RedisKeys.Bucket(partition), policy, limit, partition);

    /// <summary>
    /// Requests counted in the window now: the sum of its sub-window counters. The tests that read it run well within
    /// one window, so every counter still counts.
    /// </summary>
    public static async Task<long> CountAsync(IDatabase database, string key)
    {
        var counters = await database.HashValuesAsync(key);
        return counters.Sum(c => (long)c);
    }
}
