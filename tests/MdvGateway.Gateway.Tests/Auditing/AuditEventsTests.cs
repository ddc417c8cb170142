using System.Net;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.IpBans;
using Identity = MdvGateway.Gateway.ClientIdentity.ClientIdentity;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class AuditEventsTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 18, 0, 0, TimeSpan.Zero);

    [Fact]
    public void BanIssued_AutomaticBan_CarriesTheLadderDetails()
    {
        var ban = new Ban
        {
            Target = "203.0.113.5", Origin = BanOrigins.Auto, Reason = "3 rate-limit rejections", Level = 2, CreatedAt = Now,
            ExpiresAt = Now.AddMinutes(10), CreatedBy = "gateway:h:1", Policy = "auth", Strikes = 3,
        };

        var e = AuditEvents.BanIssued(ban);

        Assert.Equal((AuditEventTypes.BanIssued, "203.0.113.5", "auth", "gateway:h:1", Now), (e.EventType, e.ClientIp, e.Policy, e.Actor, e.OccurredAt));
        Assert.Null(e.RouteId);
        Assert.Equal(2, e.Details.GetProperty("level").GetInt32());
        Assert.Equal(600, e.Details.GetProperty("duration").GetDouble());
        Assert.Equal("2026-11-25T18:10:00.000Z", e.Details.GetProperty("expiresAt").GetString());
        Assert.Equal("auto", e.Details.GetProperty("origin").GetString());
        Assert.Equal(3, e.Details.GetProperty("strikes").GetInt32());
        Assert.Equal("3 rate-limit rejections", e.Details.GetProperty("reason").GetString());
    }

    [Fact]
    public void BanIssued_PermanentManualBan_HasNullDurationAndExpiry_AndTheGivenActor()
    {
        var ban = new Ban { Target = "198.51.100.0/24", Origin = BanOrigins.Manual, CreatedAt = Now, CreatedBy = "secops" };

        var e = AuditEvents.BanIssued(ban, actor: "secops-key");

        Assert.Equal("secops-key", e.Actor);
        Assert.Equal("198.51.100.0/24", e.ClientIp);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, e.Details.GetProperty("duration").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, e.Details.GetProperty("expiresAt").ValueKind);
        Assert.Equal(System.Text.Json.JsonValueKind.Null, e.Details.GetProperty("strikes").ValueKind);
    }

    [Fact]
    public void BanLifted_CarriesOriginResetLevelAndActor()
    {
        var e = AuditEvents.BanLifted("203.0.113.0/24", BanOrigins.Manual, resetLevel: true, "secops", Now);

        Assert.Equal((AuditEventTypes.BanLifted, "203.0.113.0/24", "secops", Now), (e.EventType, e.ClientIp, e.Actor, e.OccurredAt));
        Assert.Equal("manual", e.Details.GetProperty("origin").GetString());
        Assert.True(e.Details.GetProperty("resetLevel").GetBoolean());
    }

    [Fact]
    public void Client_Unknown_IsNull_OtherwiseTheKey()
    {
        Assert.Null(AuditEvents.Client(Identity.Unknown));
        Assert.Equal("2001:db8:1:2::/64", AuditEvents.Client(new Identity(IPAddress.Parse("2001:db8:1:2::1"), "2001:db8:1:2::/64")));
    }

    [Fact]
    public void Events_GetDistinctEventIds()
    {
        var ids = Enumerable.Range(0, 1000).Select(_ => AuditEvents.ConfigReloaded(["Redis"], ["Redis:KeyPrefix"], Now).EventId).ToHashSet();

        Assert.Equal(1000, ids.Count);
    }
}
