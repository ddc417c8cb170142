using System.Net;
using System.Text.Json;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.Metrics.Testing;
using StackExchange.Redis;
using System.Diagnostics.Metrics;

namespace MdvGateway.Gateway.FunctionalTests.RateLimiting;

public sealed class RateLimitEnforcementTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private readonly UpstreamServer _upstream = fixture.Upstream;

    [Fact]
    public async Task PerClientLimit_ExceedingPermitLimit_Returns429AndNeverReachesUpstream()
    {
        var config = new GatewayConfig(_upstream.Address).Route("auth", "/auth", "auth").Policy("auth", 5, "00:01:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.0.11", gateway.Address);
        var path = "/auth/" + config.KeyPrefix;

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 8; i++)
        {
            using var response = await client.GetAsync(path);
            statuses.Add(response.StatusCode);
        }

        Assert.Equal(Enumerable.Repeat(HttpStatusCode.OK, 5).Concat(Enumerable.Repeat(HttpStatusCode.TooManyRequests, 3)), statuses);
        Assert.Equal(5, _upstream.Requests.Count(r => r.Path == path));
    }

    [Fact]
    public async Task AdmittedResponses_CarryPolicyAndRealRemainingCount_OverridingTheUpstreams()
    {
        var config = new GatewayConfig(_upstream.Address).Route("auth", "/auth", "auth").Policy("auth", 3, "00:01:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.0.12", gateway.Address);

        var remaining = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var response = await client.GetAsync("/auth/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("\"auth\";q=3;w=60", Assert.Single(response.Headers.GetValues("RateLimit-Policy")));
            remaining.Add(Assert.Single(response.Headers.GetValues("RateLimit")));
        }

        Assert.Equal(["\"auth\";r=2;t=60", "\"auth\";r=1;t=60", "\"auth\";r=0;t=60"], remaining);
    }

    [Fact]
    public async Task ConcurrentRequestsOfABusyClient_TakeReservedPermits_AndEachRemainingCountIsReportedOnce()
    {
        var config = new GatewayConfig(_upstream.Address).Route("api", "/api", "roomy").Policy("roomy", 5000, "00:05:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var reserved = new MetricCollector<long>(gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "mdv.gateway.ratelimit.reserved_permits");
        using var client = TestClients.From("127.0.0.19", gateway.Address, maxConnections: 32);
        var path = "/api/" + config.KeyPrefix;

        // 32 connections, 1500 requests: well inside the lower half of the limit, where reserves are taken.
        var headers = await Task.WhenAll(Enumerable.Range(0, 1500).Select(async _ =>
        {
            using var response = await client.GetAsync(path);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            return Assert.Single(response.Headers.GetValues("RateLimit"));
        }));

        // Whether a request was counted by a call or took a reserved permit, what the client is told is left is never more
        // than the window has left after it. It can be a little less: permits another reserve counted ahead and had not
        // handed out yet were in the window when a call counted this request (at most one reserve's worth).
        var remaining = headers.Select(h => int.Parse(h.Split(';')[1][2..], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.All(remaining, r => Assert.InRange(r, 3500 - Gateway.RateLimiting.ReservationTable.MaxReserve, 4999));
        Assert.Equal(4999, remaining.Max());
        Assert.True(remaining.Distinct().Count() >= 1400, $"only {remaining.Distinct().Count()} distinct remaining counts of 1500");
        Assert.True(reserved.GetMeasurementSnapshot().Where(m => m.Tags["event"] as string == "reserved").Sum(m => m.Value) > 0, "no permits were reserved: the test did not exercise reserves");
        Assert.Equal(1500, _upstream.Requests.Count(r => r.Path == path));

        // Once the reserve's time is up, what nobody took is given back: the window holds exactly the admitted requests.
        var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await using var _ = redis;
        var window = RateLimitWindows.Key(config.KeyPrefix, "roomy", "roomy", "127.0.0.19");
        Assert.True(await Eventually.TrueAsync(async () => await RateLimitWindows.CountAsync(redis.GetDatabase(), window) == 1500), "unused reserved permits were not given back");
    }

    [Fact]
    public async Task Rejection_HasExactHeadersAndProblemBody()
    {
        var config = new GatewayConfig(_upstream.Address).Route("auth", "/auth", "auth").Policy("auth", 2, "00:01:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.0.13", gateway.Address);
        (await client.GetAsync("/auth/a")).Dispose();
        (await client.GetAsync("/auth/b")).Dispose();

        using var rejected = await client.GetAsync("/auth/c");

        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.Equal("application/problem+json", rejected.Content.Headers.ContentType?.MediaType);
        var retryAfter = (long)rejected.Headers.RetryAfter!.Delta!.Value.TotalSeconds;
        // A permit comes back when its sub-window leaves the window: up to one granularity (3 s of 60) after an exact log.
        Assert.InRange(retryAfter, 58, 63);
        Assert.Equal("\"auth\";q=2;w=60", Assert.Single(rejected.Headers.GetValues("RateLimit-Policy")));
        Assert.Equal($"\"auth\";r=0;t={retryAfter}", Assert.Single(rejected.Headers.GetValues("RateLimit")));

        using var body = JsonDocument.Parse(await rejected.Content.ReadAsStringAsync());
        var root = body.RootElement;
        Assert.Equal("urn:mdvgateway:problem:rate-limited", root.GetProperty("type").GetString());
        Assert.Equal("Too many requests", root.GetProperty("title").GetString());
        Assert.Equal(429, root.GetProperty("status").GetInt32());
        Assert.Equal("auth", root.GetProperty("policy").GetString());
        Assert.Equal(retryAfter, root.GetProperty("retryAfterSeconds").GetInt64());
        Assert.False(string.IsNullOrEmpty(root.GetProperty("detail").GetString()));
        Assert.False(string.IsNullOrEmpty(root.GetProperty("traceId").GetString()));
    }

    [Fact]
    public async Task TwoClients_AreCountedIndependently()
    {
        var config = new GatewayConfig(_upstream.Address).Route("auth", "/auth", "auth").Policy("auth", 2, "00:01:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var first = TestClients.From("127.0.0.21", gateway.Address);
        using var second = TestClients.From("127.0.0.22", gateway.Address);

        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(HttpStatusCode.OK, (await first.GetAsync("/auth/x")).StatusCode);
        }

        Assert.Equal(HttpStatusCode.TooManyRequests, (await first.GetAsync("/auth/x")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/auth/x")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await second.GetAsync("/auth/x")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await second.GetAsync("/auth/x")).StatusCode);
    }

    [Fact]
    public async Task HeaderPartition_CountsPerHeaderValue_AndNeverStoresTheRawValue()
    {
        var config = new GatewayConfig(_upstream.Address)
            .Route("partner", "/partner", "partner")
            .Policy("partner", 2, "00:01:00", partitionBy: "Header:X-Api-Key");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.0.31", gateway.Address);

        async Task<HttpStatusCode> Call(string key)
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/partner/x");
            request.Headers.Add("X-Api-Key", key);
            using var response = await client.SendAsync(request);
            return response.StatusCode;
        }

        Assert.Equal(HttpStatusCode.OK, await Call("key-alpha-secret"));
        Assert.Equal(HttpStatusCode.OK, await Call("key-alpha-secret"));
        Assert.Equal(HttpStatusCode.TooManyRequests, await Call("key-alpha-secret"));
        // Same address, another key: a separate partition.
        Assert.Equal(HttpStatusCode.OK, await Call("key-beta-secret"));

        var redis = await ConnectionMultiplexer.ConnectAsync(TestEnvironment.Redis);
        await using var _ = redis;
        var keys = redis.GetServer(redis.GetEndPoints()[0]).Keys(pattern: $"{config.KeyPrefix}:*:w:*").Select(k => k.ToString()).ToList();
        Assert.Equal(2, keys.Count);
        Assert.DoesNotContain(keys, k => k.Contains("secret", StringComparison.Ordinal));
        Assert.All(keys, k => Assert.Matches("^" + config.KeyPrefix + @":\{b[0-9]{2}\}:w:partner:partner:h\.[0-9a-f]{32}$", k));
    }

    [Fact]
    public async Task ShadowPolicy_NeverRejects_ButReportsWhatItWouldHaveRejected()
    {
        var config = new GatewayConfig(_upstream.Address)
            .Route("shadow", "/shadow", "trial")
            .Policy("trial", 2, "00:01:00", mode: "Shadow");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var metrics = new MetricCollector<long>(gateway.Services.GetRequiredService<IMeterFactory>(), GatewayMetrics.MeterName, "mdv.gateway.ratelimit.decisions");
        using var client = TestClients.From("127.0.0.41", gateway.Address);

        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/shadow/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("RateLimit-Policy"));
        }

        var byOutcome = metrics.GetMeasurementSnapshot()
            .Where(m => (string?)m.Tags["policy"] == "trial")
            .GroupBy(m => (string)m.Tags["outcome"]!)
            .ToDictionary(g => g.Key, g => g.Sum(m => m.Value));
        Assert.Equal(2, byOutcome["allowed"]);
        Assert.Equal(3, byOutcome["shadow_rejected"]);
    }

    [Fact]
    public async Task ExemptAddress_IsNeverLimited_WhileOthersAre()
    {
        var config = new GatewayConfig(_upstream.Address)
            .Route("auth", "/auth", "auth")
            .Policy("auth", 1, "00:01:00")
            .List("RateLimiting:Exempt", "127.0.0.50/31");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var exempt = TestClients.From("127.0.0.51", gateway.Address);
        using var other = TestClients.From("127.0.0.52", gateway.Address);

        for (var i = 0; i < 6; i++)
        {
            using var response = await exempt.GetAsync("/auth/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        }

        Assert.Equal(HttpStatusCode.OK, (await other.GetAsync("/auth/x")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await other.GetAsync("/auth/x")).StatusCode);
    }

    [Fact]
    public async Task DisabledRoute_IsNeverLimited_AndRouteWithoutPolicyGetsTheDefault()
    {
        var config = new GatewayConfig(_upstream.Address)
            .Route("open", "/open", "Disable")
            .Route("plain", "/plain", null)
            .Policy("per-ip", 2, "00:01:00")
            .Set("RateLimiting:DefaultPolicy", "per-ip");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.0.61", gateway.Address);

        for (var i = 0; i < 5; i++)
        {
            using var response = await client.GetAsync("/open/x");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.False(response.Headers.Contains("RateLimit-Policy"));
            // An unlimited route passes the upstream's own quota headers through untouched.
            Assert.Equal("\"upstream-says\";r=999;t=1", Assert.Single(response.Headers.GetValues("RateLimit")));
        }

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/plain/x")).StatusCode);
        using var second = await client.GetAsync("/plain/x");
        Assert.Equal("\"per-ip\";q=2;w=60", Assert.Single(second.Headers.GetValues("RateLimit-Policy")));
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/plain/x")).StatusCode);
    }

    [Fact]
    public async Task PolicyWithSeveralLimits_RejectsOnTheTightest_AndReportsEveryLimit()
    {
        var config = new GatewayConfig(_upstream.Address)
            .Route("api", "/api", "tiered")
            .Set("RateLimiting:Policies:tiered:Limits:0:PermitLimit", "3")
            .Set("RateLimiting:Policies:tiered:Limits:0:Window", "00:01:00")
            .Set("RateLimiting:Policies:tiered:Limits:1:PermitLimit", "100")
            .Set("RateLimiting:Policies:tiered:Limits:1:Window", "01:00:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.0.71", gateway.Address);

        using var first = await client.GetAsync("/api/x");
        Assert.Equal("\"tiered-60s\";q=3;w=60, \"tiered-3600s\";q=100;w=3600", Assert.Single(first.Headers.GetValues("RateLimit-Policy")));
        Assert.Equal("\"tiered-60s\";r=2;t=60, \"tiered-3600s\";r=99;t=3600", Assert.Single(first.Headers.GetValues("RateLimit")));
        (await client.GetAsync("/api/x")).Dispose();
        (await client.GetAsync("/api/x")).Dispose();

        using var rejected = await client.GetAsync("/api/x");
        Assert.Equal(HttpStatusCode.TooManyRequests, rejected.StatusCode);
        Assert.StartsWith("\"tiered-60s\";r=0;t=", Assert.Single(rejected.Headers.GetValues("RateLimit")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RouteAndClientIpPartition_CountsEachRouteSeparately()
    {
        var config = new GatewayConfig(_upstream.Address)
            .Route("a", "/a", "per-route")
            .Route("b", "/b", "per-route")
            .Policy("per-route", 1, "00:01:00", partitionBy: "Route+ClientIp");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.0.81", gateway.Address);

        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/a/x")).StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, (await client.GetAsync("/a/x")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/b/x")).StatusCode);
    }

    [Fact]
    public async Task HeadAndOptions_CountLikeAnyOtherRequest()
    {
        var config = new GatewayConfig(_upstream.Address).Route("auth", "/auth", "auth").Policy("auth", 2, "00:01:00");
        await using var gateway = await GatewayServer.StartAsync(config.Values);
        using var client = TestClients.From("127.0.0.91", gateway.Address);

        using var head = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/auth/x"));
        using var options = await client.SendAsync(new HttpRequestMessage(HttpMethod.Options, "/auth/x"));
        using var rejectedHead = await client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/auth/x"));

        Assert.Equal(HttpStatusCode.OK, head.StatusCode);
        Assert.Equal(HttpStatusCode.OK, options.StatusCode);
        Assert.Equal(HttpStatusCode.TooManyRequests, rejectedHead.StatusCode);
        Assert.NotNull(rejectedHead.Headers.RetryAfter);
    }
}
