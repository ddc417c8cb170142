using System.Net;
using MdvGateway.Gateway.Admin;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class BanInputTests
{
    [Theory]
    [InlineData("01:00:00", 3600)]
    [InlineData("00:00:01", 1)]
    [InlineData("1.00:00:00", 86400)]
    [InlineData(" 00:10:00 ", 600)]
    [InlineData("3650.00:00:00", 315360000)]
    public void TryParseDuration_Valid(string text, long seconds)
    {
        Assert.True(BanInput.TryParseDuration(text, out var duration, out var error), error);
        Assert.Equal(TimeSpan.FromSeconds(seconds), duration);
    }

    [Fact]
    public void TryParseDuration_Null_IsPermanent()
    {
        Assert.True(BanInput.TryParseDuration(null, out var duration, out _));
        Assert.Null(duration);
    }

    [Theory]
    [InlineData("-01:00:00", "negative")]
    [InlineData("00:00:00", "longer than zero")]
    [InlineData("60", "is not hh:mm:ss")]
    [InlineData("01:00", "is not hh:mm:ss")]
    [InlineData("25:00:00", "is not hh:mm:ss")]
    [InlineData("1h", "is not hh:mm:ss")]
    [InlineData("", "is not hh:mm:ss")]
    [InlineData("3651.00:00:00", "at most 3650")]
    public void TryParseDuration_Invalid_SaysWhy(string text, string expected)
    {
        Assert.False(BanInput.TryParseDuration(text, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-11-25", "2026-11-25T00:00:00+00:00")]
    [InlineData("2026-11-25T10:00:00Z", "2026-11-25T10:00:00+00:00")]
    [InlineData("2026-11-25T10:00:00.5Z", "2026-11-25T10:00:00.5+00:00")]
    [InlineData("2026-11-25T10:00:00+01:00", "2026-11-25T09:00:00+00:00")]
    [InlineData("2026-11-25T10:00:00 01:00", "2026-11-25T09:00:00+00:00")]
    [InlineData("2026-11-25T10:00", "2026-11-25T10:00:00+00:00")]
    public void TryParseInstant_Iso8601(string text, string expected)
    {
        Assert.True(BanInput.TryParseInstant(text, out var instant, out var error), error);
        Assert.Equal(DateTimeOffset.Parse(expected, System.Globalization.CultureInfo.InvariantCulture), instant);
    }

    [Theory]
    [InlineData("11/25/2026")]
    [InlineData("yesterday")]
    [InlineData("2026-13-01")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParseInstant_NotIso8601_Fails(string? text)
        => Assert.False(BanInput.TryParseInstant(text, out _, out _));

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7")]
    [InlineData("203.0.113.0/24", "203.0.113.0/24")]
    [InlineData("2001:db8:1:2::99", "2001:db8:1:2::/64")]
    [InlineData("::ffff:203.0.113.7", "203.0.113.7")]
    public void TryParseTarget_Canonicalises(string text, string canonical)
    {
        Assert.True(BanInput.TryParseTarget(text, 64, out var target, out var error), error);
        Assert.Equal(canonical, target.Canonical);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-an-ip")]
    [InlineData("203.0.113.7/24")]
    [InlineData("203.0.113.0/33")]
    [InlineData("10.1")]
    [InlineData("fe80::1%eth0")]
    public void TryParseTarget_Invalid_Fails(string? text)
        => Assert.False(BanInput.TryParseTarget(text, 64, out _, out _));

    [Theory]
    [InlineData("203.0.113.7", "203.0.113.7", true)]
    [InlineData("203.0.113.0/24", "203.0.113.7", true)]
    [InlineData("203.0.113.7", "203.0.113.0/24", true)]
    [InlineData("203.0.113.0/25", "203.0.113.128/25", false)]
    [InlineData("0.0.0.0/0", "10.0.0.1", true)]
    [InlineData("2001:db8::/64", "2001:db8::1", true)]
    [InlineData("2001:db8::/64", "203.0.113.7", false)]
    public void AllowlistOverlap_FindsRangesSharingAnAddress(string target, string allowlistEntry, bool overlaps)
    {
        Assert.True(BanInput.TryParseTarget(target, 64, out var parsed, out _));

        Assert.Equal(overlaps ? allowlistEntry : null, BanInput.AllowlistOverlap(parsed, ["2001:db8:ffff::1", allowlistEntry]));
    }

    [Theory]
    [InlineData("203.0.113.7/32", "203.0.113.0/24", true)]
    [InlineData("203.0.113.0/24", "203.0.113.0/24", true)]
    [InlineData("203.0.0.0/16", "203.0.113.0/24", false)]
    [InlineData("198.51.100.0/24", "203.0.113.0/24", false)]
    public void IsInside_RequiresTheWholeRange(string inner, string outer, bool expected)
        => Assert.Equal(expected, BanInput.IsInside(IPNetwork.Parse(inner), IPNetwork.Parse(outer)));

    [Fact]
    public void TryValidateReason_CapsTheLength()
    {
        Assert.True(BanInput.TryValidateReason(new string('x', BanInput.MaxReasonLength), out _));
        Assert.False(BanInput.TryValidateReason(new string('x', BanInput.MaxReasonLength + 1), out _));
        Assert.True(BanInput.TryValidateReason(null, out _));
    }
}
