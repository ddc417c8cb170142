using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class BanCsvWriterTests
{
    private static readonly DateTimeOffset Created = new(2026, 11, 25, 10, 0, 0, 123, TimeSpan.Zero);

    private static Ban Ban(string target, string? reason, string createdBy = "secops")
        => new() { Target = target, Origin = BanOrigins.Manual, Reason = reason, CreatedAt = Created, ExpiresAt = Created.AddHours(1), CreatedBy = createdBy };

    [Fact]
    public void Write_StartsWithTheHeaderRow()
    {
        var csv = BanCsvWriter.Write([]);

        Assert.Equal("target,origin,reason,level,createdAt,expiresAt,createdBy,policy,strikes\r\n", csv);
    }

    [Fact]
    public void Write_ThenRead_RoundTripsCommasQuotesAndLineBreaks()
    {
        const string reason = "scanner, \"aggressive\"\nsecond line\r\nthird";
        var csv = BanCsvWriter.Write([Ban("203.0.113.0/24", reason), Ban("2001:db8::/64", null)]);

        Assert.True(CsvRecordReader.TryRead(csv, 100, out var records, out var error), error);
        Assert.Equal(3, records.Count);
        Assert.Equal(BanCsvWriter.Columns, records[0].Fields);
        Assert.Equal(["203.0.113.0/24", "manual", reason, "0", "2026-11-25T10:00:00.123Z", "2026-11-25T11:00:00.123Z", "secops", "", ""], records[1].Fields);
        Assert.Equal("2001:db8::/64", records[2].Fields[0]);
        Assert.Equal(string.Empty, records[2].Fields[2]);
    }

    [Fact]
    public void Write_PermanentBan_HasAnEmptyExpiry()
    {
        var ban = Ban("198.51.100.7", "x") with { ExpiresAt = null, Origin = BanOrigins.Auto, Level = 3, Policy = "auth", Strikes = 10 };

        var row = BanCsvWriter.Write([ban]).Split("\r\n")[1];

        Assert.Equal("198.51.100.7,auto,x,3,2026-11-25T10:00:00.123Z,,secops,auth,10", row);
    }

    [Theory]
    [InlineData("=HYPERLINK(\"http://evil\")", "\"'=HYPERLINK(\"\"http://evil\"\")\"")]
    [InlineData("+1+1", "'+1+1")]
    [InlineData("-2+3", "'-2+3")]
    [InlineData("@SUM(A1)", "'@SUM(A1)")]
    [InlineData("\tcmd", "'\tcmd")]
    [InlineData("plain reason", "plain reason")]
    [InlineData("a=b", "a=b")]
    [InlineData("", "")]
    [InlineData(null, "")]
    public void Cell_NeutralisesFormulasAndQuotesWhenNeeded(string? value, string expected)
        => Assert.Equal(expected, BanCsvWriter.Cell(value));

    [Fact]
    public void Write_FormulaInCreatedBy_IsNeutralisedToo()
    {
        var row = BanCsvWriter.Write([Ban("198.51.100.7", "r", createdBy: "=cmd")]).Split("\r\n")[1];

        Assert.Contains(",'=cmd,", row, StringComparison.Ordinal);
    }
}
