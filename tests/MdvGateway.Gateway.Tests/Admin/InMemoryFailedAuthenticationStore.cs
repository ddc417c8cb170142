using MdvGateway.Gateway.Admin;
using StackExchange.Redis;

namespace MdvGateway.Gateway.Tests.Admin;

/// <summary>
/// The shared count as RedisRateLimiting's fixed window keeps it (a window opens at the first call, check or failure;
/// a failure is counted while the count is under the limit), on the test's clock. Several limiters given one instance
/// behave like nodes sharing one Redis. <see cref="Outage"/> makes every call fail or hang.
/// </summary>
internal sealed class InMemoryFailedAuthenticationStore(TimeProvider time) : IFailedAuthenticationStore
{
    private readonly Dictionary<string, (DateTimeOffset End, int Count)> _windows = new(StringComparer.Ordinal);

    public StoreOutage Outage { get; set; }

    /// <summary>Calls that reached the store (answered or not).</summary>
    public int Calls { get; private set; }

    public int CountOf(string client)
    {
        lock (_windows)
        {
            return _windows.TryGetValue(client, out var window) && window.End > time.GetUtcNow() ? window.Count : 0;
        }
    }

    public Task<FailureVerdict> RecordFailureAsync(string client, int limit, TimeSpan window)
        => CallAsync(() =>
        {
            var (end, count) = Window(client, window);
            var counted = count < limit;
            if (counted)
            {
                _windows[client] = (end, ++count);
            }

            return new FailureVerdict(counted, count >= limit ? end - time.GetUtcNow() : null);
        });

    public Task<TimeSpan?> LockedOutForAsync(string client, int limit, TimeSpan window)
        => CallAsync<TimeSpan?>(() =>
        {
            var (end, count) = Window(client, window);
            return count >= limit ? end - time.GetUtcNow() : null;
        });

    private (DateTimeOffset End, int Count) Window(string client, TimeSpan window)
    {
        var now = time.GetUtcNow();
        if (!_windows.TryGetValue(client, out var current) || current.End <= now)
        {
            current = (now + window, 0);
            _windows[client] = current;
        }

        return current;
    }

    private Task<T> CallAsync<T>(Func<T> answer)
    {
        lock (_windows)
        {
            Calls++;
            return Outage switch
            {
                StoreOutage.Down => Task.FromException<T>(new RedisConnectionException(ConnectionFailureType.UnableToConnect, CommandFlags.None, "Redis is not connected", null, CommandStatus.Unknown)),
                StoreOutage.Hung => new TaskCompletionSource<T>().Task,
                _ => Task.FromResult(answer()),
            };
        }
    }
}

internal enum StoreOutage
{
    None,
    Down,
    Hung,
}
