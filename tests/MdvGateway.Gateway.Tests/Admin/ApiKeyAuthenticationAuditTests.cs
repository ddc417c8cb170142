using System.Net;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Tests.Configuration;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Admin;

/// <summary>What <see cref="ApiKeyAuthenticationMiddleware"/> reports to the audit trail: one count per refusal, none for anything else.</summary>
public sealed class ApiKeyAuthenticationAuditTests : IDisposable
{
    private static readonly string Key = "k-" + Guid.NewGuid().ToString("N");
    private static readonly IPAddress Attacker = IPAddress.Parse("203.0.113.9");

    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 25, 18, 0, 0, TimeSpan.Zero));
    private readonly RecordingAuditSink _sink = new();
    private readonly GatewaySettingsMonitor _settings;
    private readonly InMemoryFailedAuthenticationStore _store;
    private readonly ApiKeyAuthenticationMiddleware _middleware;

    public ApiKeyAuthenticationAuditTests()
    {
        var configuration = TestConfiguration.With(
            ("Admin:ApiKeys:0:Name", "secops"),
            ("Admin:ApiKeys:0:Sha256", ApiKeyHash.Compute(Key)),
            ("Admin:ApiKeys:0:Roles:0", AdminRoles.BansRead),
            ("Admin:AuthFailureLimit", "3"),
            ("Admin:AuthFailureWindow", "00:01:00"));
        _settings = new GatewaySettingsMonitor(configuration, GatewaySettings.TryLoad(configuration, out _)!, NullLogger<GatewaySettingsMonitor>.Instance);
        _store = new InMemoryFailedAuthenticationStore(_time);
        _middleware = Node();
    }

    /// <summary>A gateway node's middleware: each has its own limiter, and all share <see cref="_store"/>.</summary>
    private ApiKeyAuthenticationMiddleware Node()
        => new(
            static context =>
            {
                context.Response.StatusCode = StatusCodes.Status200OK;
                return Task.CompletedTask;
            },
            _settings,
            new FailedAuthenticationLimiter(_store, new LocalFailureTable(_time), _settings, _time, NullLogger<FailedAuthenticationLimiter>.Instance),
            _sink,
            _time,
            NullLogger<ApiKeyAuthenticationMiddleware>.Instance);

    public void Dispose() => _settings.Dispose();

    private Task<int> SendAsync(string? key, IPAddress? from, string role = AdminRoles.BansRead) => SendAsync(_middleware, key, from, role);

    private static async Task<int> SendAsync(ApiKeyAuthenticationMiddleware middleware, string? key, IPAddress? from, string role = AdminRoles.BansRead)
    {
        var context = new DefaultHttpContext();
        context.Connection.RemoteIpAddress = from;
        context.SetEndpoint(new Endpoint(null, new EndpointMetadataCollection(new AdminRoleRequirement(role)), "admin"));
        if (key is not null)
        {
            context.Request.Headers[ApiKeyAuthenticationMiddleware.ApiKeyHeader] = key;
        }

        await middleware.InvokeAsync(context);
        return context.Response.StatusCode;
    }

    [Fact]
    public async Task WrongKeys_ThenLockedOut_EachRefusalIsCountedOnceUnderItsReason()
    {
        var statuses = new List<int>();
        for (var i = 0; i < 3; i++)
        {
            statuses.Add(await SendAsync("wrong-" + i, Attacker));
            _time.Advance(TimeSpan.FromSeconds(1));
        }

        for (var i = 0; i < 2; i++)
        {
            statuses.Add(await SendAsync(Key, Attacker));
        }

        Assert.Equal([401, 401, 401, 429, 429], statuses);
        Assert.Equal(
            [
                ("203.0.113.9", "admin-auth-failed"), ("203.0.113.9", "admin-auth-failed"), ("203.0.113.9", "admin-auth-failed"),
                ("203.0.113.9", "admin-auth-locked"), ("203.0.113.9", "admin-auth-locked"),
            ],
            _sink.Refusals.Select(r => (r.Client, r.Reason)));
        Assert.Equal(_time.GetUtcNow().AddSeconds(-3), _sink.Refusals[0].At);
        Assert.Empty(_sink.Events);
    }

    [Fact]
    public async Task WrongKeysOnTwoNodes_TheNodeThatDidNotSeeTheLockout_RefusesAsLockedWithoutCounting()
    {
        var other = Node();
        var statuses = new List<int>
        {
            await SendAsync("wrong-1", Attacker),
            await SendAsync(other, "wrong-2", Attacker),
            await SendAsync("wrong-3", Attacker),
            await SendAsync(other, "wrong-4", Attacker),
            await SendAsync(other, Key, Attacker),
            await SendAsync(Key, Attacker),
        };

        Assert.Equal([401, 401, 401, 429, 429, 429], statuses);
        Assert.Equal(3, _store.CountOf("203.0.113.9"));
        Assert.Equal(
            ["admin-auth-failed", "admin-auth-failed", "admin-auth-failed", "admin-auth-locked", "admin-auth-locked", "admin-auth-locked"],
            _sink.Refusals.Select(r => r.Reason));
        Assert.Equal(200, await SendAsync(other, Key, IPAddress.Parse("203.0.113.10")));
    }

    [Fact]
    public async Task StoreDown_WrongKeysAreCountedOnTheNode_ValidKeysFromOtherAddressesStillWork()
    {
        _store.Outage = StoreOutage.Down;
        var statuses = new List<int>();
        for (var i = 0; i < 4; i++)
        {
            statuses.Add(await SendAsync("wrong-" + i, Attacker));
        }

        statuses.Add(await SendAsync(Key, Attacker));
        statuses.Add(await SendAsync(Key, IPAddress.Parse("203.0.113.10")));

        Assert.Equal([401, 401, 401, 429, 429, 200], statuses);
    }

    [Fact]
    public async Task NoKeyGoodKeyOrMissingRole_AreNotAbuse()
    {
        Assert.Equal(401, await SendAsync(null, Attacker));
        Assert.Equal(200, await SendAsync(Key, Attacker));
        Assert.Equal(403, await SendAsync(Key, Attacker, AdminRoles.BansWrite));

        Assert.Empty(_sink.Refusals);
    }

    [Fact]
    public async Task WrongKey_FromAnIpv6Address_IsCountedForItsClientPrefix()
    {
        Assert.Equal(401, await SendAsync("wrong", IPAddress.Parse("2001:db8:1:2:3:4:5:6")));

        Assert.Equal(("2001:db8:1:2::/64", "admin-auth-failed"), Assert.Single(_sink.Refusals.Select(r => (r.Client, r.Reason))));
    }

    [Fact]
    public async Task WrongKey_FromAnUnknownAddress_IsCountedWithoutAClient()
    {
        Assert.Equal(401, await SendAsync("wrong", null));

        Assert.Equal((null, "admin-auth-failed"), Assert.Single(_sink.Refusals.Select(r => (r.Client, r.Reason))));
    }
}
