using System.Net;
using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.FunctionalTests.Auditing;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.FunctionalTests.Admin;

/// <summary>The admin API's audit trail, as it reaches the real <c>audit-events</c> queue.</summary>
public sealed class AdminAuditTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>, IDisposable
{
    private readonly string _spool = AuditTestKit.NewSpoolDirectory();

    public void Dispose() => AuditTestKit.DeleteDirectory(_spool);

    private GatewayConfig Config(TestVirtualHost vhost) => new GatewayConfig(fixture.Upstream.Address)
        .Route("open", "/open", "Disable")
        .WithAdminKeys()
        .List("IpBans:Allowlist", "192.0.2.0/28")
        .WithAudit(_spool, RabbitMqTestBroker.Port, vhost.Name)
        .Set("Audit:AggregationInterval", "00:00:00.2");

    [Fact]
    public async Task AdminWrites_EachRecordTheirAdminEventAndBanEvents_SignedWithTheKeyName()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var gateway = await AdminGateway.StartAsync(Config(vhost).Values);
        try
        {
            using var writer = new AdminApi(gateway, AdminKeys.Writer);
            using var secops = new AdminApi(gateway, AdminKeys.All);

            await ExpectAsync(HttpStatusCode.Created, writer.BanAsync("203.0.113.0/24", "01:30:00", "port scan"));
            await ExpectAsync(HttpStatusCode.Created, writer.BanAsync("192.0.2.5", "00:10:00", "confirmed compromised", overrideAllowlist: true));
            await ExpectAsync(HttpStatusCode.Created, secops.BanAsync("2001:db8:aa:bb:1:2:3:4", null, null));
            await ExpectAsync(HttpStatusCode.OK, writer.PatchJsonAsync(AdminApi.Path("203.0.113.0/24"), """{"duration":"2.00:00:00"}"""));
            await ExpectAsync(HttpStatusCode.OK, writer.PatchJsonAsync(AdminApi.Path("192.0.2.5"), """{"expiresAt":null}"""));
            await ExpectAsync(HttpStatusCode.NoContent, secops.DeleteAsync(AdminApi.Path("203.0.113.0/24") + "?resetLevel=true"));
            await ExpectAsync(HttpStatusCode.OK, writer.PostJsonAsync(
                "/admin/bans/import?overrideAllowlist=true",
                """
                [{"target":"198.51.100.0/24","duration":"7.00:00:00","reason":"feed"},
                 {"target":"198.51.100.77","duration":null},
                 {"target":"not-an-address","duration":"01:00:00"},
                 {"target":"192.0.2.5","duration":"00:01:00"}]
                """));

            // Refused writes change nothing, so they record nothing.
            await ExpectAsync(HttpStatusCode.Conflict, writer.BanAsync("192.0.2.6", "00:10:00"));
            await ExpectAsync(HttpStatusCode.BadRequest, writer.BanAsync("192.0.2.77", "1h"));
            await ExpectAsync(HttpStatusCode.NotFound, writer.PatchJsonAsync(AdminApi.Path("192.0.2.99"), """{"duration":"00:10:00"}"""));
            await ExpectAsync(HttpStatusCode.NotFound, secops.DeleteAsync(AdminApi.Path("203.0.113.0/24")));
            await ExpectAsync(HttpStatusCode.BadRequest, writer.PostJsonAsync("/admin/bans/import", """{"target":"192.0.2.78"}"""));
            await ExpectAsync(HttpStatusCode.Forbidden, writer.SendAsync(HttpMethod.Get, "/admin/bans"));
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        var messages = await TakeAllAsync(vhost);
        var events = messages.Select(m => m.Event).ToList();

        Assert.Equal(
            [
                ("admin.ban.changed", 2), ("admin.ban.created", 3), ("admin.ban.imported", 1), ("admin.ban.lifted", 1),
                (AuditEventTypes.BanIssued, 5), (AuditEventTypes.BanLifted, 1),
            ],
            events.GroupBy(e => e.EventType).Select(g => (g.Key, g.Count())).OrderBy(g => g.Key, StringComparer.Ordinal));
        Assert.Equal(events.Count, events.Select(e => e.EventId).Distinct().Count());
        Assert.All(events, e => Assert.Null(e.RouteId));

        var created = events.Where(e => e.EventType == "admin.ban.created").ToDictionary(e => e.ClientIp!);
        Assert.Equal(["192.0.2.5", "2001:db8:aa:bb::/64", "203.0.113.0/24"], created.Keys.Order(StringComparer.Ordinal));
        var range = created["203.0.113.0/24"];
        Assert.Equal("writer", range.Actor);
        AssertRequest(range, "POST", "/admin/bans", 201);
        Assert.Equal(5400, range.Details.GetProperty("duration").GetDouble());
        Assert.Equal("port scan", range.Details.GetProperty("reason").GetString());
        Assert.False(range.Details.GetProperty("overrideAllowlist").GetBoolean());
        Assert.True(created["192.0.2.5"].Details.GetProperty("overrideAllowlist").GetBoolean());
        var permanent = created["2001:db8:aa:bb::/64"];
        Assert.Equal("secops", permanent.Actor);
        Assert.Equal(JsonValueKind.Null, permanent.Details.GetProperty("duration").ValueKind);
        Assert.Equal(JsonValueKind.Null, permanent.Details.GetProperty("expiresAt").ValueKind);

        var issued = events.Where(e => e.EventType == AuditEventTypes.BanIssued).ToDictionary(e => e.ClientIp!);
        Assert.Equal(
            [
                ("192.0.2.5", "manual", "writer"), ("198.51.100.0/24", "imported", "writer"), ("198.51.100.77", "imported", "writer"),
                ("2001:db8:aa:bb::/64", "manual", "secops"), ("203.0.113.0/24", "manual", "writer"),
            ],
            issued.Values.Select(e => (e.ClientIp, e.Details.GetProperty("origin").GetString(), e.Actor)).OrderBy(e => e.ClientIp, StringComparer.Ordinal));
        Assert.Equal(7 * 86400, issued["198.51.100.0/24"].Details.GetProperty("duration").GetDouble());
        Assert.Equal("feed", issued["198.51.100.0/24"].Details.GetProperty("reason").GetString());
        Assert.Equal(JsonValueKind.Null, issued["198.51.100.77"].Details.GetProperty("duration").ValueKind);

        var changed = events.Where(e => e.EventType == "admin.ban.changed").ToDictionary(e => e.ClientIp!);
        var extended = changed["203.0.113.0/24"];
        Assert.Equal("writer", extended.Actor);
        AssertRequest(extended, "PATCH", "/admin/bans/203.0.113.0%2F24", 200);
        Assert.Equal(2 * 86400, extended.Details.GetProperty("duration").GetDouble());
        Assert.Equal(
            range.Details.GetProperty("expiresAt").GetString(),
            extended.Details.GetProperty("previousExpiresAt").GetString());
        Assert.Equal(JsonValueKind.Null, changed["192.0.2.5"].Details.GetProperty("expiresAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, changed["192.0.2.5"].Details.GetProperty("duration").ValueKind);

        var lifted = Assert.Single(events, e => e.EventType == AuditEventTypes.BanLifted);
        Assert.Equal(("203.0.113.0/24", "secops"), (lifted.ClientIp, lifted.Actor));
        Assert.Equal("manual", lifted.Details.GetProperty("origin").GetString());
        Assert.True(lifted.Details.GetProperty("resetLevel").GetBoolean());
        var delete = Assert.Single(events, e => e.EventType == "admin.ban.lifted");
        Assert.Equal(("203.0.113.0/24", "secops"), (delete.ClientIp, delete.Actor));
        AssertRequest(delete, "DELETE", "/admin/bans/203.0.113.0%2F24", 204);
        Assert.True(delete.Details.GetProperty("resetLevel").GetBoolean());

        var import = Assert.Single(events, e => e.EventType == "admin.ban.imported");
        Assert.Equal((null, "writer"), (import.ClientIp, import.Actor));
        AssertRequest(import, "POST", "/admin/bans/import", 200);
        Assert.Equal("json", import.Details.GetProperty("format").GetString());
        Assert.True(import.Details.GetProperty("overrideAllowlist").GetBoolean());
        Assert.Equal(
            (3, 1, 1, 2),
            (import.Details.GetProperty("accepted").GetInt32(), import.Details.GetProperty("unchanged").GetInt32(),
             import.Details.GetProperty("rejected").GetInt32(), import.Details.GetProperty("issued").GetInt32()));

        AssertNoSecret(messages, AdminKeys.Writer, AdminKeys.All);
    }

    [Fact]
    public async Task FailedAuthentications_AreAggregatedAsAbuseRefused_CountingEvery401And429Once()
    {
        await using var vhost = await RabbitMqTestBroker.CreateVirtualHostAsync();
        var config = Config(vhost).Set("Admin:AuthFailureLimit", "25").Set("Admin:AuthFailureWindow", "00:05:00");
        var gateway = await AdminGateway.StartAsync(config.Values);
        var attackers = new[] { "127.0.61.1", "127.0.61.2" };
        var refused = attackers.ToDictionary(ip => ip, _ => (Failed: 0, Locked: 0), StringComparer.Ordinal);
        var guesses = new List<string>();
        try
        {
            using var colleague = new AdminApi(gateway, AdminKeys.Reader, TestClients.From("127.0.61.3", gateway.AdminAddress));
            foreach (var round in Enumerable.Range(0, 4))
            {
                var rounds = await Task.WhenAll(attackers.Select(async ip =>
                {
                    using var http = TestClients.From(ip, gateway.AdminAddress);
                    using var attacker = new AdminApi(gateway, http: http);
                    var keys = Enumerable.Range(0, 12).Select(_ => AdminKeys.NewKey()).ToList();
                    lock (guesses)
                    {
                        guesses.AddRange(keys);
                    }

                    var statuses = await Task.WhenAll(keys.Select(async key =>
                    {
                        using var response = await attacker.SendAsync(HttpMethod.Post, "/admin/bans", AdminApi.Json("""{"target":"192.0.2.100","duration":null}"""), key);
                        return response.StatusCode;
                    }));

                    if (round < 2)
                    {
                        // Before the lockout (24 guesses so far, the limit is 25), a request without any key is not a
                        // guess: answered 401, neither limited nor audited. Once locked out, everything is refused 429.
                        using var none = await attacker.GetAsync("/admin/bans");
                        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
                    }

                    return (ip, statuses);
                }));
                foreach (var (ip, statuses) in rounds)
                {
                    Assert.All(statuses, s => Assert.True(s is HttpStatusCode.Unauthorized or HttpStatusCode.TooManyRequests, s.ToString()));
                    var (failed, locked) = refused[ip];
                    refused[ip] = (failed + statuses.Count(s => s == HttpStatusCode.Unauthorized), locked + statuses.Count(s => s == HttpStatusCode.TooManyRequests));
                }

                using var ok = await colleague.GetAsync("/admin/bans");
                Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
                await Task.Delay(TimeSpan.FromMilliseconds(150 * round));
            }
        }
        finally
        {
            await gateway.DisposeAsync();
        }

        var messages = await TakeAllAsync(vhost);
        var events = messages.Select(m => m.Event).ToList();

        Assert.All(events, e => Assert.Equal(AuditEventTypes.AbuseRefused, e.EventType));
        foreach (var ip in attackers)
        {
            var (failed, locked) = refused[ip];
            Assert.InRange(failed, 25, 48);
            Assert.Equal(48, failed + locked);
            Assert.Equal(failed, SumOfCounts(events, ip, ApiKeyAuthenticationMiddleware.FailedReason));
            Assert.Equal(locked, SumOfCounts(events, ip, ApiKeyAuthenticationMiddleware.LockedReason));
        }

        Assert.DoesNotContain(events, e => e.ClientIp == "127.0.61.3");
        Assert.All(events, e =>
        {
            Assert.StartsWith("gateway:", e.Actor, StringComparison.Ordinal);
            Assert.True(e.Details.GetProperty("firstAt").GetDateTimeOffset() <= e.Details.GetProperty("lastAt").GetDateTimeOffset());
        });

        // Aggregated: refusals in one interval are one event.
        Assert.Contains(events, e => AuditTestKit.Count(e) > 1);
        Assert.True(events.Count < 2 * 48, $"{events.Count} events");
        AssertNoSecret(messages, [.. guesses, AdminKeys.Reader]);
    }

    [Fact]
    public async Task AuditOff_AdminWritesAndRefusals_AnswerAsUsual()
    {
        var config = new GatewayConfig(fixture.Upstream.Address).Route("open", "/open", "Disable").WithAdminKeys().Set("Admin:AuthFailureLimit", "2");
        await using var gateway = await AdminGateway.StartAsync(config.Values);
        using var writer = new AdminApi(gateway, AdminKeys.Writer);
        using var attacker = new AdminApi(gateway, AdminKeys.Unknown, TestClients.From("127.0.62.1", gateway.AdminAddress));

        Assert.Same(NullAuditSink.Instance, gateway.Services.GetRequiredService<IAuditSink>());
        await ExpectAsync(HttpStatusCode.Created, writer.BanAsync("203.0.113.9", "00:10:00"));
        await ExpectAsync(HttpStatusCode.OK, writer.PatchJsonAsync(AdminApi.Path("203.0.113.9"), """{"duration":"00:20:00"}"""));
        await ExpectAsync(HttpStatusCode.OK, writer.PostJsonAsync("/admin/bans/import", """[{"target":"203.0.113.10","duration":null}]"""));
        await ExpectAsync(HttpStatusCode.NoContent, writer.DeleteAsync(AdminApi.Path("203.0.113.9")));
        await ExpectAsync(HttpStatusCode.Unauthorized, attacker.GetAsync("/admin/bans"));
        await ExpectAsync(HttpStatusCode.Unauthorized, attacker.GetAsync("/admin/bans"));
        await ExpectAsync(HttpStatusCode.TooManyRequests, attacker.GetAsync("/admin/bans"));
    }

    private static async Task ExpectAsync(HttpStatusCode expected, Task<HttpResponseMessage> send)
    {
        using var response = await send;
        Assert.True(response.StatusCode == expected, $"expected {(int)expected}, got {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
    }

    private static void AssertRequest(AuditEventRecorded e, string method, string path, int status)
    {
        Assert.Equal(method, e.Details.GetProperty("method").GetString());
        Assert.Equal(path, e.Details.GetProperty("path").GetString());
        Assert.Equal(status, e.Details.GetProperty("status").GetInt32());
    }

    private static long SumOfCounts(IEnumerable<AuditEventRecorded> events, string client, string reason)
        => events.Where(e => e.ClientIp == client && e.Details.GetProperty("reason").GetString() == reason).Sum(AuditTestKit.Count);

    /// <summary>
    /// Neither a key nor its hash appears anywhere in what was published: not in the raw bytes (hex and the key's tail
    /// need no JSON escaping) and not in any name or string of the envelope once unescaped.
    /// </summary>
    private static void AssertNoSecret(IReadOnlyList<(string Body, AuditEventRecorded Event)> messages, params string[] keys)
    {
        Assert.NotEmpty(messages);
        foreach (var (body, _) in messages)
        {
            using var envelope = JsonDocument.Parse(body);
            var strings = Strings(envelope.RootElement).ToList();
            foreach (var key in keys)
            {
                var hash = ApiKeyHash.Compute(key);
                Assert.DoesNotContain(hash, body, StringComparison.OrdinalIgnoreCase);
                Assert.DoesNotContain(key[^32..], body, StringComparison.Ordinal);
                Assert.DoesNotContain(strings, s => s.Contains(key, StringComparison.Ordinal) || s.Contains(hash, StringComparison.OrdinalIgnoreCase));
            }
        }
    }

    private static IEnumerable<string> Strings(JsonElement element)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    yield return property.Name;
                    foreach (var s in Strings(property.Value))
                    {
                        yield return s;
                    }
                }

                break;
            case JsonValueKind.Array:
                foreach (var s in element.EnumerateArray().SelectMany(Strings))
                {
                    yield return s;
                }

                break;
            case JsonValueKind.String:
                yield return element.GetString()!;
                break;
        }
    }

    /// <summary>Takes every message from the audit queue, of either contract: each event with the raw body of the message that carried it.</summary>
    private static async Task<List<(string Body, AuditEventRecorded Event)>> TakeAllAsync(TestVirtualHost vhost)
        => [.. (await vhost.TakeMessagesAsync()).SelectMany(m => m.Events.Select(e => (m.Body, e)))];
}
