using System.Net;
using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.FunctionalTests.Auditing;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using MdvGateway.Gateway.IpBans;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>
/// Admin writes that Redis breaks off half-way: what is in force must be in the audit trail, with the status the
/// caller got. The real Redis store is wrapped so that it fails at a chosen step.
/// </summary>
public sealed class AdminAuditStoreFailureTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    [Fact]
    public async Task Import_InterruptedByRedis_RecordsEveryBanWrittenAndTheImportAs503()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var store = new FailingBanStore { UpsertsBeforeFailure = 300 };
        var app = await StartAsync(vhost, store);
        HttpStatusCode status;
        string body;
        try
        {
            // Two batches of concurrent writes: the first (256) all succeed, the second fails after 44.
            var lines = Enumerable.Range(0, 400).Select(i => new { target = $"10.9.{i / 256}.{i % 256}", duration = "01:00:00", reason = "feed" });
            using var http = AdminClient(app);
            using var response = await http.PostAsync("/admin/bans/import", AdminApi.Json(JsonSerializer.Serialize(lines)));
            (status, body) = (response.StatusCode, await response.Content.ReadAsStringAsync());
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        var events = await vhost.TakeAllAsync();

        Assert.Equal(HttpStatusCode.ServiceUnavailable, status);
        Assert.Contains("after 300 of 400", body, StringComparison.Ordinal);
        var issued = events.Where(e => e.EventType == AuditEventTypes.BanIssued).ToList();
        Assert.Equal(300, issued.Count);
        Assert.Equal(300, issued.Select(e => e.ClientIp).Distinct().Count());
        Assert.All(issued, e => Assert.Equal(("imported", "writer"), (e.Details.GetProperty("origin").GetString(), e.Actor)));
        Assert.Equal(store.Written.Order(StringComparer.Ordinal), issued.Select(e => e.ClientIp!).Order(StringComparer.Ordinal));
        var import = Assert.Single(events, e => e.EventType == "admin.ban.imported");
        Assert.Equal(503, import.Details.GetProperty("status").GetInt32());
        Assert.Equal(
            (400, 0, 0, 300),
            (import.Details.GetProperty("accepted").GetInt32(), import.Details.GetProperty("unchanged").GetInt32(),
             import.Details.GetProperty("rejected").GetInt32(), import.Details.GetProperty("issued").GetInt32()));
        Assert.Equal(301, events.Count);
    }

    [Fact]
    public async Task Delete_WhenRedisFailsAfterTheBanIsGone_RecordsTheLiftWithThe503TheCallerGot()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var store = new FailingBanStore();
        var app = await StartAsync(vhost, store);
        HttpStatusCode created, deleted, after;
        try
        {
            using var http = AdminClient(app);
            using (var response = await http.PostAsync("/admin/bans", AdminApi.Json("""{"target":"10.9.9.9","duration":"01:00:00"}""")))
            {
                created = response.StatusCode;
            }

            store.FailClearOffenses = true;
            using (var response = await http.DeleteAsync(AdminApi.Path("10.9.9.9")))
            {
                deleted = response.StatusCode;
            }

            using (var response = await http.DeleteAsync(AdminApi.Path("10.9.9.9")))
            {
                after = response.StatusCode;
            }
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        var events = await vhost.TakeAllAsync();

        Assert.Equal((HttpStatusCode.Created, HttpStatusCode.ServiceUnavailable, HttpStatusCode.NotFound), (created, deleted, after));
        var lifted = Assert.Single(events, e => e.EventType == AuditEventTypes.BanLifted);
        Assert.Equal(("10.9.9.9", "writer", "manual"), (lifted.ClientIp, lifted.Actor, lifted.Details.GetProperty("origin").GetString()));
        var delete = Assert.Single(events, e => e.EventType == "admin.ban.lifted");
        Assert.Equal(503, delete.Details.GetProperty("status").GetInt32());
        Assert.Equal(["admin.ban.created", "admin.ban.lifted", AuditEventTypes.BanIssued, AuditEventTypes.BanLifted], events.Select(e => e.EventType).Order(StringComparer.Ordinal));
    }

    [Fact]
    public async Task Patch_WhenRedisFailsAfterTheChange_Answers200AndRecordsTheChange()
    {
        // The change is in force; only the client's offense-level schedule could not follow it. A 503 would make
        // the caller retry a change that has already happened.
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var store = new FailingBanStore { FailRescheduleOffenses = true };
        var app = await StartAsync(vhost, store);
        HttpStatusCode changed;
        Ban? stored;
        try
        {
            using var http = AdminClient(app);
            (await http.PostAsync("/admin/bans", AdminApi.Json("""{"target":"10.9.9.10","duration":"01:00:00"}"""))).Dispose();
            using (var response = await http.PatchAsync(AdminApi.Path("10.9.9.10"), AdminApi.Json("""{"duration":"2.00:00:00"}""")))
            {
                changed = response.StatusCode;
            }

            stored = await app.Services.GetRequiredService<IBanStore>().GetAsync("10.9.9.10");
        }
        finally
        {
            await app.StopAsync();
            await app.DisposeAsync();
        }

        var events = await vhost.TakeAllAsync();

        Assert.Equal(HttpStatusCode.OK, changed);
        Assert.True(stored?.ExpiresAt > DateTimeOffset.UtcNow.AddDays(1), "the ban should carry its new end");
        var change = Assert.Single(events, e => e.EventType == "admin.ban.changed");
        Assert.Equal(200, change.Details.GetProperty("status").GetInt32());
        Assert.Equal(1, store.RescheduleAttempts);
    }

    /// <summary>The real gateway with <paramref name="store"/> wrapped around its Redis ban store, ready.</summary>
    private async Task<WebApplication> StartAsync(TestVirtualHost vhost, FailingBanStore store)
    {
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("open", "/open", "Disable")
            .WithAdminKeys()
            .WithAudit(_spool, RabbitMqTestBroker.Port, vhost.Name)
            .Set("Audit:AggregationInterval", "00:00:00.2");
        var app = GatewayApplication.Build([], builder =>
        {
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddInMemoryCollection(config.Values);

            // Registered before the gateway's own (which uses TryAdd), so this one is the store.
            builder.Services.AddSingleton<IBanStore>(sp => store.Wrap(ActivatorUtilities.CreateInstance<RedisBanStore>(sp)));
        });
        await app.StartAsync();
        using var admin = AdminClient(app);
        using var ready = await Eventually.GetAsync(admin, "/health/ready", r => r.StatusCode == HttpStatusCode.OK);
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
        return app;
    }

    private static HttpClient AdminClient(WebApplication app)
    {
        var http = new HttpClient { BaseAddress = new Uri(app.Services.GetRequiredService<AdminListener>().Addresses.First()) };
        http.DefaultRequestHeaders.Add(ApiKeyAuthenticationMiddleware.ApiKeyHeader, AdminKeys.Writer);
        return http;
    }

    /// <summary>The Redis store, failing as Redis would: upserts after the first few, clearing offenses, or rescheduling them.</summary>
    private sealed class FailingBanStore : IBanStore
    {
        private readonly List<string> _written = [];
        private IBanStore? _inner;
        private int _upserts;

        public int UpsertsBeforeFailure { get; init; } = int.MaxValue;

        public volatile bool FailClearOffenses;

        public volatile bool FailRescheduleOffenses;

        private int _rescheduleAttempts;

        public int RescheduleAttempts => Volatile.Read(ref _rescheduleAttempts);

        public IReadOnlyList<string> Written
        {
            get
            {
                lock (_written)
                {
                    return [.. _written];
                }
            }
        }

        private IBanStore Inner => _inner ?? throw new InvalidOperationException("not wrapped yet");

        // What the store's callers see of a Redis that stopped answering (AdminErrorMiddleware.IsStoreFailure).
        private static TimeoutException Gone() => new("test: Redis went away");

        public FailingBanStore Wrap(IBanStore inner)
        {
            _inner = inner;
            return this;
        }

        public async Task<bool> UpsertAsync(Ban ban, bool keepLonger)
        {
            if (Interlocked.Increment(ref _upserts) > UpsertsBeforeFailure)
            {
                throw Gone();
            }

            var written = await Inner.UpsertAsync(ban, keepLonger);
            lock (_written)
            {
                _written.Add(ban.Target);
            }

            return written;
        }

        public Task ClearOffensesAsync(string clientKey, bool resetLevel)
            => FailClearOffenses
                ? Task.FromException(Gone())
                : Inner.ClearOffensesAsync(clientKey, resetLevel);

        public Task<bool> ReplaceAsync(Ban ban) => Inner.ReplaceAsync(ban);

        public Task RescheduleOffensesAsync(string clientKey, DateTimeOffset? banEnd)
        {
            Interlocked.Increment(ref _rescheduleAttempts);
            return FailRescheduleOffenses ? Task.FromException(Gone()) : Inner.RescheduleOffensesAsync(clientKey, banEnd);
        }

        public Task<bool> RemoveAsync(string target) => Inner.RemoveAsync(target);

        public Task<IReadOnlyList<Ban>> GetActiveAsync() => Inner.GetActiveAsync();

        public Task<Ban?> GetAsync(string target) => Inner.GetAsync(target);

        public Task<IReadOnlyList<Offender>> GetOffendersAsync(int top) => Inner.GetOffendersAsync(top);

        public Task<DateTimeOffset> GetTimeAsync() => Inner.GetTimeAsync();
    }
}
