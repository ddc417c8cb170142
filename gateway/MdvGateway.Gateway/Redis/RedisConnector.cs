namespace MdvGateway.Gateway.Redis;

/// <summary>Starts connecting at start-up (without waiting for it) so the first request does not pay for it.</summary>
internal sealed class RedisConnector(RedisConnection connection) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        _ = connection.GetAsync();
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
