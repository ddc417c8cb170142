using System.Net;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>Polls for a condition that becomes true asynchronously (pub/sub, background loads), with a deadline.</summary>
public static class Eventually
{
    public static async Task<HttpResponseMessage> GetAsync(HttpClient client, string path, Func<HttpResponseMessage, bool> done, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (true)
        {
            var response = await client.GetAsync(path);
            if (done(response) || DateTime.UtcNow >= deadline)
            {
                return response;
            }

            response.Dispose();
            await Task.Delay(50);
        }
    }

    public static async Task<HttpStatusCode> StatusAsync(HttpClient client, string path, HttpStatusCode wanted, TimeSpan? within = null)
    {
        using var response = await GetAsync(client, path, r => r.StatusCode == wanted, within);
        return response.StatusCode;
    }

    public static async Task<bool> TrueAsync(Func<Task<bool>> condition, TimeSpan? within = null)
    {
        var deadline = DateTime.UtcNow + (within ?? TimeSpan.FromSeconds(10));
        while (!await condition())
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            await Task.Delay(50);
        }

        return true;
    }
}
