using MdvGateway.Gateway.Admin;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class CsvRecordReaderTests
{
    private static List<CsvRecord> Read(string text)
    {
        Assert.True(CsvRecordReader.TryRead(text, 1000, out var records, out var error), error);
        return records;
    }

    [Fact]
    public void TryRead_CrlfAndLf_AreBothLineEnds()
    {
        var records = Read("a,b\r\nc,d\ne,f");

        Assert.Equal([["a", "b"], ["c", "d"], ["e", "f"]], records.Select(r => r.Fields));
        Assert.Equal([1, 2, 3], records.Select(r => r.Line));
    }

    [Fact]
    public void TryRead_QuotedFieldSpanningLines_KeepsTheLineBreakAndNumbersLinesByTheirStart()
    {
        var records = Read("h1,h2\n\"x\ny\",\"say \"\"hi\"\", ok\"\nlast,1\n");

        Assert.Equal(["x\ny", "say \"hi\", ok"], records[1].Fields);
        Assert.Equal(2, records[1].Line);
        Assert.Equal(4, records[2].Line);
    }

    [Fact]
    public void TryRead_ByteOrderMarkAndBlankLines_AreSkipped()
    {
        var records = Read("\uFEFFtarget,duration\n\n1.2.3.4,\n\r\n");

        Assert.Equal(2, records.Count);
        Assert.Equal("target", records[0].Fields[0]);
        Assert.Equal(["1.2.3.4", ""], records[1].Fields);
        Assert.Equal(3, records[1].Line);
    }

    [Theory]
    [InlineData("a,\"never closed\nb,c", "line 1: a quoted field is never closed")]
    [InlineData("a,\"closed\"junk\n", "line 1: unexpected text after a closing quote")]
    public void TryRead_StructuralErrors_FailTheWholeRead(string text, string expected)
    {
        Assert.False(CsvRecordReader.TryRead(text, 1000, out _, out var error));
        Assert.Equal(expected, error);
    }

    [Fact]
    public void TryRead_MoreRecordsThanAllowed_Fails()
    {
        Assert.False(CsvRecordReader.TryRead("a\nb\nc\n", 2, out _, out var error));
        Assert.Contains("more than 2", error, StringComparison.Ordinal);
    }
}
