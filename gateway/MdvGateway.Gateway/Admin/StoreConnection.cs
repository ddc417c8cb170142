using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The ban store fails at once while Redis is not connected, which is right for the request path. Just after start
/// the first connection attempt may still be running; an operator's request may wait for it (boundedly) rather than
/// be refused with 503 during the first second of the process.
/// </summary>
internal sealed class StoreConnection
{
    internal static readonly TimeSpan FirstConnectionWait = TimeSpan.FromSeconds(5);

    private readonly RedisConnection _redis;

    public StoreConnection(RedisConnection redis) => _redis = redis;

    public async Task FirstAttemptAsync(CancellationToken cancellationToken)
    {
        var connecting = _redis.GetBackgroundAsync();
        if (connecting.IsCompleted)
        {
            return;
        }

        try
        {
            await connecting.WaitAsync(FirstConnectionWait, cancellationToken);
        }
        catch (Exception ex) when (AdminErrorMiddleware.IsStoreFailure(ex))
        {
            // Still not connected: the store call that follows fails, and the caller gets 503.
        }
    }
}
