using System.Text.Encodings.Web;
using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.Auditing;

namespace MdvGateway.Gateway.Tests.Auditing;

public sealed class AuditMessageSplitterTests
{
    private static readonly JsonSerializerOptions Strict = new(JsonSerializerDefaults.Web);
    private static readonly JsonSerializerOptions Relaxed = new(JsonSerializerDefaults.Web) { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static TheoryData<string> Awkward => new()
    {
        "203.0.113.9",
        "2001:db8::/64",
        "<script>&'\"+`\\",
        "Zürich – 東京 🚀",
        "line\nbreak\ttab\u0001",
        new string('é', 300),
    };

    [Theory]
    [MemberData(nameof(Awkward))]
    public void EstimatedBytes_IsAtLeastTheSerializedSize_UnderStrictAndRelaxedEncoders(string text)
    {
        var e = new AuditEventRecorded(Guid.NewGuid(), DateTimeOffset.Now, "admin.test." + "x", text, text, text, text,
            AuditDetails.Build(w =>
            {
                w.WriteString(text, text);
                w.WriteNumber("count", 123456789);
                w.WriteStartArray("list");
                w.WriteStringValue(text);
                w.WriteEndArray();
            }));

        var estimate = AuditMessageSplitter.EstimatedBytes(e);

        Assert.InRange(JsonSerializer.SerializeToUtf8Bytes(e, Strict).Length + 1, 1, estimate);
        Assert.InRange(JsonSerializer.SerializeToUtf8Bytes(e, Relaxed).Length + 1, 1, estimate);
    }

    [Fact]
    public void EstimatedBytes_OfAnOrdinaryAggregate_IsCloseToItsSize()
    {
        var at = DateTimeOffset.UtcNow;
        var e = new AuditEventRecorded(Guid.NewGuid(), at, AuditEventTypes.RateLimitExceeded, "198.18.3.7", "api", "per-ip", "gw-1",
            AuditDetails.Build(w =>
            {
                w.WriteNumber("count", 12);
                w.WriteTimestamp("firstAt", at);
                w.WriteTimestamp("lastAt", at);
                w.WriteNumber("limit", 100);
                w.WriteNumber("window", 1);
            }));

        var actual = JsonSerializer.SerializeToUtf8Bytes(e, Strict).Length;

        // An upper bound that wastes little: 500 such events fit in one message of 256 KiB with room to spare.
        Assert.InRange(AuditMessageSplitter.EstimatedBytes(e), actual, actual * 3 / 2);
        Assert.True(500 * AuditMessageSplitter.EstimatedBytes(e) + AuditMessageSplitter.EnvelopeBytes < AuditMessageSplitter.MaxMessageBytes);
    }

    [Theory]
    [InlineData(0, 500, new int[0])]
    [InlineData(1, 500, new[] { 1 })]
    [InlineData(500, 500, new[] { 500 })]
    [InlineData(1001, 500, new[] { 500, 500, 1 })]
    [InlineData(3, 1, new[] { 1, 1, 1 })]
    public void Split_ByCount_KeepsOrderAndCoversEveryEvent(int events, int maxEvents, int[] expected)
    {
        var list = Enumerable.Range(0, events).Select(_ => AuditTestEvents.Discrete()).ToList();

        Assert.Equal(expected, AuditMessageSplitter.Split(list, maxEvents));
    }

    [Fact]
    public void Split_BySize_NeverExceedsTheLimit_AndAnOversizedEventTravelsAlone()
    {
        var small = AuditTestEvents.Discrete();
        var big = AuditTestEvents.Discrete() with { Details = AuditDetails.Build(w => w.WriteString("note", new string('x', 5000))) };
        var list = new List<AuditEventRecorded> { small, small, big, small, big, big, small };
        var maxBytes = AuditMessageSplitter.EnvelopeBytes + AuditMessageSplitter.EstimatedBytes(big) + (2 * AuditMessageSplitter.EstimatedBytes(small));

        var counts = AuditMessageSplitter.Split(list, 100, maxBytes);

        Assert.Equal([3, 2, 2], counts);
        Assert.Equal([1], AuditMessageSplitter.Split([big], 100, maxBytes: 1000));
    }
}
