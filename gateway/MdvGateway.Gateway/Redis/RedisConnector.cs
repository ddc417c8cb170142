namespace MdvGateway.Gateway.Redis;

/// <summary>
/// Connects at start-up, before the server takes traffic: the first requests must be counted in Redis like all the
/// others, not by the per-node fallback. An unreachable Redis delays start-up by at most the connect timeout; the
/// gateway then starts anyway and keeps trying in the background.
/// </summary>
internal sealed class RedisConnector(RedisConnection connection) : IHostedService
{
    private static readonly TimeSpan MaxWait = TimeSpan.FromSeconds(10);

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        try
        {
            await Task.WhenAll(connection.GetAsync(), connection.GetBackgroundAsync()).WaitAsync(MaxWait, cancellationToken);
        }
        catch (TimeoutException)
        {
            // RedisConnection logs the state; limits fall back per WhenStoreUnavailable until Redis answers.
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
