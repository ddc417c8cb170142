namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>One upstream shared by the tests of a class; each test starts its own gateway.</summary>
public sealed class UpstreamFixture : IAsyncLifetime
{
    public UpstreamServer Upstream { get; private set; } = null!;

    public async Task InitializeAsync() => Upstream = await UpstreamServer.StartAsync();

    public async Task DisposeAsync() => await Upstream.DisposeAsync();
}
