using System.Text.Json;
using MdvGateway.AuditConsumer.Persistence;
using MdvGateway.Contracts;

namespace MdvGateway.AuditConsumer.Tests.Persistence;

public sealed class AuditRecordTests
{
    private static readonly AuditEventRecorded Valid = new(
        Guid.NewGuid(), new DateTimeOffset(2026, 11, 25, 14, 0, 0, TimeSpan.FromHours(2)), AuditEventTypes.BanIssued,
        "203.0.113.0/24", "login", "auth", "gw-1", Json("""{"level":1,"reason":"ok"}"""));

    [Fact]
    public void TryCreate_ValidEvent_NormalisesTimeToUtcAndKeepsEverything()
    {
        Assert.True(AuditRecord.TryCreate(Valid, out var record, out var rejection));

        Assert.Null(rejection);
        Assert.Equal(Valid.EventId, record.EventId);
        Assert.Equal(TimeSpan.Zero, record.OccurredAt.Offset);
        Assert.Equal(Valid.OccurredAt, record.OccurredAt);
        Assert.Equal("203.0.113.0", record.ClientIp!.Value.Address.ToString());
        Assert.Equal(24, record.ClientIp.Value.Netmask);
        Assert.Equal("""{"level":1,"reason":"ok"}""", record.Details);
    }

    [Theory]
    [InlineData("admin.ban.created")]
    [InlineData("ban.extended")]
    [InlineData("rate_limit.exceeded")]
    public void TryCreate_WellFormedEventType_IsStoredEvenIfUnknown(string eventType)
        => Assert.True(AuditRecord.TryCreate(Valid with { EventType = eventType }, out _, out _));

    [Theory]
    [InlineData("")]
    [InlineData("admin.")]
    [InlineData("Ban.Issued")]
    [InlineData("ban issued")]
    [InlineData("banissued")]
    [InlineData("ban.issued\0")]
    public void TryCreate_MalformedEventType_IsRejected(string eventType)
        => AssertRejected(Valid with { EventType = eventType }, AuditRejectionReason.InvalidEventType);

    [Fact]
    public void TryCreate_EmptyEventId_IsRejected()
        => AssertRejected(Valid with { EventId = Guid.Empty }, AuditRejectionReason.MissingEventId);

    [Fact]
    public void TryCreate_OccurredBefore1970_IsRejected()
    {
        AssertRejected(Valid with { OccurredAt = default }, AuditRejectionReason.InvalidOccurredAt);
        Assert.True(AuditRecord.TryCreate(Valid with { OccurredAt = DateTimeOffset.UnixEpoch }, out _, out _));
    }

    [Theory]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"text\"")]
    [InlineData("""{"reason":"nul \u0000 inside"}""")]
    [InlineData("""{"nested":{"list":["ok","\u0000"]}}""")]
    [InlineData("""{"\u0000":1}""")]
    [InlineData("""{"lone":"\ud800"}""")]
    public void TryCreate_DetailsJsonbCannotHold_IsRejected(string details)
        => AssertRejected(Valid with { Details = Json(details) }, AuditRejectionReason.InvalidDetails);

    [Fact]
    public void TryCreate_MissingDetails_IsRejected()
        => AssertRejected(Valid with { Details = default }, AuditRejectionReason.InvalidDetails);

    [Theory]
    [InlineData("10.1")]
    [InlineData("203.0.113.7/33")]
    [InlineData("fe80::1%eth0")]
    [InlineData("not-an-ip")]
    public void TryCreate_BadClientIp_IsRejected(string clientIp)
        => AssertRejected(Valid with { ClientIp = clientIp }, AuditRejectionReason.InvalidClientIp);

    [Fact]
    public void TryCreate_EmptyClientIp_IsStoredAsNull()
    {
        Assert.True(AuditRecord.TryCreate(Valid with { ClientIp = "" }, out var record, out _));
        Assert.Null(record.ClientIp);
    }

    [Fact]
    public void TryCreate_TextPostgresCannotHoldOrIndex_IsRejected()
    {
        AssertRejected(Valid with { Actor = "sec\0ops" }, AuditRejectionReason.InvalidText);
        AssertRejected(Valid with { RouteId = "api\ud800" }, AuditRejectionReason.InvalidText);
        AssertRejected(Valid with { Policy = new string('p', AuditRecord.MaxTextLength + 1) }, AuditRejectionReason.InvalidText);
        Assert.True(AuditRecord.TryCreate(Valid with { Actor = "clé 🔑" }, out _, out _));
    }

    [Fact]
    public void Rejection_NamesTheEventAndTheReason()
    {
        Assert.False(AuditRecord.TryCreate(Valid with { Details = Json("[1]") }, out _, out var rejection));

        Assert.Equal("invalid_details", rejection!.Tag);
        Assert.Contains(Valid.EventId.ToString(), rejection.ToString(), StringComparison.Ordinal);
        Assert.Contains("not a JSON object", rejection.ToString(), StringComparison.Ordinal);
    }

    private static void AssertRejected(AuditEventRecorded message, AuditRejectionReason reason)
    {
        Assert.False(AuditRecord.TryCreate(message, out _, out var rejection));
        Assert.Equal(reason, rejection!.Reason);
        Assert.Equal(message.EventId, rejection.EventId);
    }

    private static JsonElement Json(string json) => JsonDocument.Parse(json).RootElement.Clone();
}
