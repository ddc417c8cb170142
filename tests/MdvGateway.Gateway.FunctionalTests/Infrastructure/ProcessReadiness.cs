using System.Diagnostics;
using System.Net;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>Waits for a child process (gateway or audit consumer) to answer 200 on <c>/health/ready</c>.</summary>
public static class ProcessReadiness
{
    /// <summary>
    /// Polls <paramref name="baseAddress"/><c>/health/ready</c> until it answers 200; false if the process exits first
    /// or the deadline (30 s unless given) passes.
    /// </summary>
    public static async Task<bool> WaitAsync(Process process, string baseAddress, TimeSpan? within = null)
    {
        using var http = new HttpClient { BaseAddress = new Uri(baseAddress), Timeout = TimeSpan.FromSeconds(2) };
        var ready = await Eventually.TrueAsync(
            async () =>
            {
                if (process.HasExited)
                {
                    return true;
                }

                try
                {
                    using var response = await http.GetAsync("/health/ready");
                    return response.StatusCode == HttpStatusCode.OK;
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    return false;
                }
            },
            within ?? TimeSpan.FromSeconds(30));
        return ready && !process.HasExited;
    }
}
