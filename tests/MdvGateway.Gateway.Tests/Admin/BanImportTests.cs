using System.Text.Json;
using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class BanImportTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 25, 10, 0, 0, TimeSpan.Zero);

    private static ImportRules Rules(bool overrideAllowlist = false) => new(64, ["192.0.2.0/24"], overrideAllowlist, Now, "secops");

    private static List<ImportCandidate> Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        Assert.True(BanImport.TryParseJson(document, out var candidates, out var error), error);
        return candidates;
    }

    private static List<ImportCandidate> Csv(string csv)
    {
        Assert.True(BanImport.TryParseCsv(csv, out var candidates, out var error), error);
        return candidates;
    }

    [Fact]
    public void Validate_JsonWithSomeBadLines_AcceptsTheGoodOnesAndReportsEachBadOne()
    {
        var candidates = Json("""
            [
              { "target": "203.0.113.7", "duration": "01:00:00", "reason": "scanner" },
              { "target": "203.0.113.0/24", "duration": null },
              { "target": "not-an-ip", "duration": "01:00:00" },
              { "target": "198.51.100.1", "duration": "-01:00:00" },
              { "target": "198.51.100.2", "duration": "01:00:00", "extra": 1 },
              { "target": "198.51.100.3" },
              "198.51.100.4",
              { "target": "203.0.113.7", "duration": "02:00:00" },
              { "target": "192.0.2.9", "duration": "01:00:00" },
              { "target": 42, "duration": "01:00:00" }
            ]
            """);

        var (bans, rejected) = BanImport.Validate(candidates, Rules());

        Assert.Equal(["203.0.113.7", "203.0.113.0/24"], bans.Select(b => b.Target));
        Assert.All(bans, b => Assert.Equal(BanOrigins.Imported, b.Origin));
        Assert.All(bans, b => Assert.Equal("secops", b.CreatedBy));
        Assert.Equal(Now.AddHours(1), bans[0].ExpiresAt);
        Assert.Equal("scanner", bans[0].Reason);
        Assert.Null(bans[1].ExpiresAt);
        Assert.Equal([3, 4, 5, 6, 7, 8, 9, 10], rejected.Select(r => r.Line));
        Assert.Equal("not-an-ip", rejected[0].Target);
        Assert.Contains("not a valid", rejected[0].Error, StringComparison.Ordinal);
        Assert.Contains("negative", rejected[1].Error, StringComparison.Ordinal);
        Assert.Contains("unknown field 'extra'", rejected[2].Error, StringComparison.Ordinal);
        Assert.Contains("'duration' is required", rejected[3].Error, StringComparison.Ordinal);
        Assert.Contains("expected a JSON object", rejected[4].Error, StringComparison.Ordinal);
        Assert.Contains("already on line 1", rejected[5].Error, StringComparison.Ordinal);
        Assert.Contains("allowlist", rejected[6].Error, StringComparison.Ordinal);
        Assert.Contains("'target' has the wrong type", rejected[7].Error, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_OverrideAllowlist_AcceptsAllowlistedTargets()
    {
        var (bans, rejected) = BanImport.Validate(Json("""[{ "target": "192.0.2.9", "duration": "01:00:00" }]"""), Rules(overrideAllowlist: true));

        Assert.Single(bans);
        Assert.Empty(rejected);
    }

    [Fact]
    public void Validate_CsvWithSomeBadLines_ReportsCsvLineNumbers()
    {
        var candidates = Csv("target,duration,reason\r\n203.0.113.7,01:00:00,\"scanner, \"\"loud\"\"\nline two\"\r\nnope,01:00:00,x\r\n198.51.100.9,,permanent\r\n198.51.100.10,01:00:00\r\n198.51.100.11,1h,x\r\n");

        var (bans, rejected) = BanImport.Validate(candidates, Rules());

        Assert.Equal(["203.0.113.7", "198.51.100.9"], bans.Select(b => b.Target));
        Assert.Equal("scanner, \"loud\"\nline two", bans[0].Reason);
        Assert.Null(bans[1].ExpiresAt);
        Assert.Equal([4, 6, 7], rejected.Select(r => r.Line));
        Assert.Contains("expected 3 fields, found 2", rejected[1].Error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseCsv_ReasonColumnIsOptionalAndColumnsMayBeReordered()
    {
        var candidates = Csv("Duration,Target\n00:10:00,203.0.113.7\n");

        var candidate = Assert.Single(candidates);
        Assert.Equal("203.0.113.7", candidate.Target);
        Assert.Equal("00:10:00", candidate.Duration);
        Assert.Null(candidate.Reason);
    }

    [Theory]
    [InlineData("", "empty")]
    [InlineData("ip,duration\n1.2.3.4,01:00:00\n", "header")]
    [InlineData("target,reason\n1.2.3.4,x\n", "header")]
    [InlineData("target,duration,duration\n", "header")]
    [InlineData("target,duration\n\"1.2.3.4,01:00:00\n", "never closed")]
    public void TryParseCsv_BadShape_FailsTheWholeImport(string csv, string expected)
    {
        Assert.False(BanImport.TryParseCsv(csv, out _, out var error));
        Assert.Contains(expected, error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"target\":\"1.2.3.4\",\"duration\":null}")]
    [InlineData("\"1.2.3.4\"")]
    public void TryParseJson_NotAnArray_FailsTheWholeImport(string json)
    {
        using var document = JsonDocument.Parse(json);

        Assert.False(BanImport.TryParseJson(document, out _, out var error));
        Assert.Contains("array", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseCsv_TooManyLines_FailsTheWholeImport()
    {
        var csv = "target,duration\n" + string.Concat(Enumerable.Repeat("1.2.3.4,\n", BanImport.MaxLines + 1));

        Assert.False(BanImport.TryParseCsv(csv, out _, out var error));
        Assert.Contains("at most 100000 lines", error, StringComparison.Ordinal);
    }

    [Fact]
    public void TryParseCsv_ExactlyTheMaximum_IsAccepted()
    {
        var csv = "target,duration\n" + string.Concat(Enumerable.Repeat("1.2.3.4,\n", BanImport.MaxLines));

        Assert.True(BanImport.TryParseCsv(csv, out var candidates, out _));
        Assert.Equal(BanImport.MaxLines, candidates.Count);
    }
}
