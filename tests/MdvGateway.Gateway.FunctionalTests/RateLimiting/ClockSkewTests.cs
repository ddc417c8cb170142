using System.Net;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.RateLimiting;

/// <summary>
/// Two gateway processes whose clocks disagree by 30 s (libfaketime from Debian, preloaded into one of them) share one
/// Redis: every score and expiry comes from Redis's clock, so together they admit exactly the limit. With scores taken
/// from each node's clock, the node 30 s ahead would see the other's admissions as 30 s older, drop them from its
/// window before their time and admit more than the limit.
/// </summary>
public sealed class ClockSkewTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private const string FakeTimeLibrary = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1";

    [Fact]
    public async Task TwoNodes_WhoseClocksDiffer_By30Seconds_AdmitExactlyThePermitLimit()
    {
        Assert.True(File.Exists(FakeTimeLibrary), $"{FakeTimeLibrary} is missing: make services-up installs Debian's faketime");
        const int limit = 6;
        var window = TimeSpan.FromSeconds(60);
        var config = new GatewayConfig(fixture.Upstream.Address).Route("api", "/api", "skew").Policy("skew", limit, "00:01:00")
            // Only Redis decides here: a slow call on a busy machine must not fall back to a node's own count (which
            // admits on its own) and pass for over-admission; it would answer 503 and fail the test visibly instead.
            .Set("Redis:TimeoutMs", "3000")
            .Set("RateLimiting:WhenStoreUnavailable", "Reject");
        await using var honest = await GatewayProcess.StartAsync(config.Values);
        // Only the wall clock is shifted. libfaketime 0.9.10 also rewrites the timeouts of pthread_cond_timedwait for
        // CLOCK_MONOTONIC ("monotonic fix"); under .NET that sometimes lost a wake-up, and a Redis connection of the node
        // hung in its handshake (SUBSCRIBE timed out, the node never became ready). FAKETIME_FORCE_MONOTONIC_FIX=0 turns
        // that rewrite off; the node's timers and timeouts then run on the real monotonic clock, as in production.
        await using var ahead = await GatewayProcess.StartAsync(config.Values, new Dictionary<string, string>
        {
            ["LD_PRELOAD"] = FakeTimeLibrary,
            ["FAKETIME"] = "+30s",
            ["FAKETIME_DONT_FAKE_MONOTONIC"] = "1",
            ["FAKETIME_FORCE_MONOTONIC_FIX"] = "0",
        });

        // Each node's request-path connection may still be connecting when the node reports ready: wait, from another
        // client, until both answer from Redis.
        foreach (var node in new[] { honest, ahead })
        {
            using var warmUp = TestClients.From("127.0.77.9", node.Address);
            var status = await Eventually.StatusAsync(warmUp, "/api/warm-up", HttpStatusCode.OK, TimeSpan.FromSeconds(15));
            Assert.True(status == HttpStatusCode.OK, $"node {(node == honest ? "honest" : "ahead")} still answers {status}; its log:\n{node.Output}");
        }

        using var toHonest = TestClients.From("127.0.77.1", honest.Address);
        using var toAhead = TestClients.From("127.0.77.1", ahead.Address);

        // The skew is real: an answer the gateway makes itself (a 404 no route matches) carries its own clock.
        var skew = await DateOfAsync(toAhead) - await DateOfAsync(toHonest);
        Assert.InRange(skew.TotalSeconds, 25, 35);

        // Spread over 35 s, alternating nodes: every request lands in one 60 s window of Redis's clock, while the node 30 s
        // ahead would see the first requests as 65 s old if it scored them by its own clock.
        var started = DateTimeOffset.UtcNow;
        var admitted = 0;
        var marker = "/api/" + config.KeyPrefix;
        for (var i = 0; i < 2 * limit; i++)
        {
            using var response = await (i % 2 == 0 ? toHonest : toAhead).GetAsync(marker);
            Assert.True(response.StatusCode is HttpStatusCode.OK or HttpStatusCode.TooManyRequests, $"unexpected {response.StatusCode}");
            admitted += response.StatusCode == HttpStatusCode.OK ? 1 : 0;
            if (i == (limit / 2) - 1)
            {
                // Halfway: let 35 s pass, less than the window, more than a node-clock layout could hide with 30 s of skew.
                await Task.Delay(TimeSpan.FromSeconds(35));
            }
        }

        var span = DateTimeOffset.UtcNow - started;
        Assert.True(span < window - TimeSpan.FromSeconds(5), $"the requests took {span} (35 s of it on purpose): too long for one window, the test proves nothing");
        Assert.Equal(limit, admitted);
        Assert.Equal(limit, fixture.Upstream.Requests.Count(r => r.Path == marker));
    }

    private static async Task<DateTimeOffset> DateOfAsync(HttpClient client)
    {
        using var response = await client.GetAsync("/no-such-route-" + Guid.NewGuid().ToString("N"));
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        return response.Headers.Date ?? throw new InvalidOperationException("the gateway's answer has no Date header");
    }
}
