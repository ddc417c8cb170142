using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.IpBans;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class AdminAuditTests
{
    private static readonly DateTimeOffset StoreNow = new(2026, 11, 25, 18, 0, 0, TimeSpan.Zero);
    private static readonly AdminCaller Secops = new("secops", [AdminRoles.BansWrite]);

    private readonly FakeTimeProvider _time = new(StoreNow.AddMilliseconds(250));
    private readonly RecordingAuditSink _sink = new();
    private readonly AdminAudit _audit;

    public AdminAuditTests() => _audit = new AdminAudit(_sink, _time);

    private static DefaultHttpContext Request(string method, string path, string? query = null)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = method;
        context.Request.Path = path;
        if (query is not null)
        {
            context.Request.QueryString = new QueryString(query);
        }

        return context;
    }

    private static Ban Manual(string target, TimeSpan? duration, string origin = BanOrigins.Manual) => new()
    {
        Target = target,
        Origin = origin,
        Reason = "credential stuffing, SEC-1234",
        Level = 0,
        CreatedAt = StoreNow,
        ExpiresAt = StoreNow + duration,
        CreatedBy = "secops",
    };

    private static void AssertRequest(AuditEventRecorded e, string method, string path, int status)
    {
        Assert.Equal(method, e.Details.GetProperty("method").GetString());
        Assert.Equal(path, e.Details.GetProperty("path").GetString());
        Assert.Equal(status, e.Details.GetProperty("status").GetInt32());
    }

    [Fact]
    public void BanCreated_RecordsBanIssuedAndAdminBanCreated_SignedWithTheKeyName()
    {
        var ban = Manual("203.0.113.0/24", TimeSpan.FromMinutes(90));

        _audit.BanCreated(Request("POST", "/admin/bans"), Secops, ban, overrideAllowlist: true);

        Assert.Equal([AuditEventTypes.BanIssued, "admin.ban.created"], _sink.Events.Select(e => e.EventType));
        Assert.All(_sink.Events, e => Assert.Equal(("203.0.113.0/24", "secops"), (e.ClientIp, e.Actor)));
        var issued = _sink.Events[0];
        Assert.Equal(StoreNow, issued.OccurredAt);
        Assert.Equal("manual", issued.Details.GetProperty("origin").GetString());
        Assert.Equal(5400, issued.Details.GetProperty("duration").GetDouble());
        var admin = _sink.Events[1];
        Assert.Equal(_time.GetUtcNow(), admin.OccurredAt);
        Assert.Null(admin.RouteId);
        Assert.Null(admin.Policy);
        AssertRequest(admin, "POST", "/admin/bans", 201);
        Assert.Equal(5400, admin.Details.GetProperty("duration").GetDouble());
        Assert.Equal("2026-11-25T19:30:00.000Z", admin.Details.GetProperty("expiresAt").GetString());
        Assert.Equal("credential stuffing, SEC-1234", admin.Details.GetProperty("reason").GetString());
        Assert.True(admin.Details.GetProperty("overrideAllowlist").GetBoolean());
        Assert.NotEqual(issued.EventId, admin.EventId);
    }

    [Fact]
    public void BanCreated_Permanent_HasNullDurationAndEnd()
    {
        _audit.BanCreated(Request("POST", "/admin/bans"), Secops, Manual("192.0.2.1", null) with { Reason = null }, overrideAllowlist: false);

        var admin = _sink.Events[1];
        Assert.Equal(JsonValueKind.Null, admin.Details.GetProperty("duration").ValueKind);
        Assert.Equal(JsonValueKind.Null, admin.Details.GetProperty("expiresAt").ValueKind);
        Assert.Equal(JsonValueKind.Null, admin.Details.GetProperty("reason").ValueKind);
        Assert.False(admin.Details.GetProperty("overrideAllowlist").GetBoolean());
    }

    [Fact]
    public void BanChanged_RecordsTheNewEndItsLengthFromTheStoresNowAndThePreviousEnd()
    {
        var previous = Manual("203.0.113.0/24", TimeSpan.FromMinutes(10));
        var changed = previous with { ExpiresAt = StoreNow.AddMinutes(5).AddDays(2) };
        var now = StoreNow.AddMinutes(5);

        _audit.BanChanged(Request("PATCH", "/admin/bans/203.0.113.0%2F24"), Secops, previous, changed, now);

        var e = Assert.Single(_sink.Events);
        Assert.Equal(("admin.ban.changed", "203.0.113.0/24", "secops"), (e.EventType, e.ClientIp, e.Actor));
        AssertRequest(e, "PATCH", "/admin/bans/203.0.113.0%2F24", 200);
        Assert.Equal(2 * 86400, e.Details.GetProperty("duration").GetDouble());
        Assert.Equal("2026-11-27T18:05:00.000Z", e.Details.GetProperty("expiresAt").GetString());
        Assert.Equal("2026-11-25T18:10:00.000Z", e.Details.GetProperty("previousExpiresAt").GetString());
    }

    [Fact]
    public void BanChanged_ToPermanent_HasNullDurationAndEnd()
    {
        var previous = Manual("192.0.2.1", TimeSpan.FromMinutes(10));

        _audit.BanChanged(Request("PATCH", "/admin/bans/192.0.2.1"), Secops, previous, previous with { ExpiresAt = null }, StoreNow);

        var e = Assert.Single(_sink.Events);
        Assert.Equal(JsonValueKind.Null, e.Details.GetProperty("duration").ValueKind);
        Assert.Equal(JsonValueKind.Null, e.Details.GetProperty("expiresAt").ValueKind);
    }

    [Theory]
    [InlineData("auto", true, 204)]
    [InlineData("imported", false, 503)]
    [InlineData(null, false, 204)]
    public void BanLifted_RecordsBanLiftedAndAdminBanLifted_WithoutTheQueryInThePath(string? origin, bool resetLevel, int status)
    {
        _audit.BanLifted(Request("DELETE", "/admin/bans/192.0.2.1", "?resetLevel=true"), Secops, "192.0.2.1", origin, resetLevel, status);

        Assert.Equal([AuditEventTypes.BanLifted, "admin.ban.lifted"], _sink.Events.Select(e => e.EventType));
        Assert.All(_sink.Events, e =>
        {
            Assert.Equal(("192.0.2.1", "secops", _time.GetUtcNow()), (e.ClientIp, e.Actor, e.OccurredAt));
            Assert.Equal(origin, e.Details.GetProperty("origin").GetString());
            Assert.Equal(resetLevel, e.Details.GetProperty("resetLevel").GetBoolean());
        });
        AssertRequest(_sink.Events[1], "DELETE", "/admin/bans/192.0.2.1", status);
    }

    [Fact]
    public void Imported_RecordsTheReportsCountsWithoutATarget()
    {
        _audit.Imported(Request("POST", "/admin/bans/import", "?overrideAllowlist=true"), Secops, 200, AdminRequestBody.Format.Csv, overrideAllowlist: true, accepted: 7, unchanged: 2, rejected: 3, issued: 5);

        var e = Assert.Single(_sink.Events);
        Assert.Equal(("admin.ban.imported", null, "secops"), (e.EventType, e.ClientIp, e.Actor));
        AssertRequest(e, "POST", "/admin/bans/import", 200);
        Assert.Equal("csv", e.Details.GetProperty("format").GetString());
        Assert.True(e.Details.GetProperty("overrideAllowlist").GetBoolean());
        Assert.Equal((7, 2, 3, 5), (e.Details.GetProperty("accepted").GetInt32(), e.Details.GetProperty("unchanged").GetInt32(), e.Details.GetProperty("rejected").GetInt32(), e.Details.GetProperty("issued").GetInt32()));
    }

    [Fact]
    public void BanImported_RecordsBanIssuedWithOriginImported()
    {
        var ban = Manual("198.51.100.0/24", TimeSpan.FromDays(7), BanOrigins.Imported);

        _audit.BanImported(Secops, ban);

        var e = Assert.Single(_sink.Events);
        Assert.Equal((AuditEventTypes.BanIssued, "198.51.100.0/24", "secops"), (e.EventType, e.ClientIp, e.Actor));
        Assert.Equal("imported", e.Details.GetProperty("origin").GetString());
        Assert.Equal(7 * 86400, e.Details.GetProperty("duration").GetDouble());
    }
}
