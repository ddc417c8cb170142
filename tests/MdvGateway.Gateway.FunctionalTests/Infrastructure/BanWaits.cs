using System.Net;
using MdvGateway.Gateway.IpBans;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// Waits, without sending a request, until a gateway enforces an automatic ban. Strikes a node counted on its own
/// reach Redis in the next flush, so the ban they earn applies within 250 ms (DESIGN.md), not necessarily from the very
/// next request; the margin here is for a shared machine.
/// </summary>
internal static class BanWaits
{
    public static async Task EnforcedAsync(GatewayServer gateway, string address)
    {
        var cache = gateway.Services.GetRequiredService<BanCache>();
        var client = new MdvGateway.Gateway.ClientIdentity.ClientIdentity(IPAddress.Parse(address), address);
        Assert.True(
            await Eventually.TrueAsync(() => Task.FromResult(cache.Find(client, DateTimeOffset.UtcNow) is not null), TimeSpan.FromSeconds(1)),
            $"{address} was not banned on this node within 1 s");
    }
}
