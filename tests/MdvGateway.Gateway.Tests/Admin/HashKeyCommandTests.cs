using System.Security.Cryptography;
using System.Text;
using MdvGateway.Gateway.Admin;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class HashKeyCommandTests
{
    private static (int Exit, string Output, string Error) Run(string[] args, string input = "")
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var exit = HashKeyCommand.Run(args, new StringReader(input), output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public void Run_Key_PrintsItsSha256AndExitsZero()
    {
        const string key = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFy";

        var (exit, output, error) = Run(["hash-key", key]);

        Assert.Equal(0, exit);
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key))), output.Trim());
        Assert.Empty(error);
    }

    [Fact]
    public void Run_DashReadsTheKeyFromStandardInput()
    {
        var (exit, output, _) = Run(["hash-key", "-"], "abc\n");

        Assert.Equal(0, exit);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", output.Trim());
    }

    [Fact]
    public void Run_ShortKey_HashesButWarns()
    {
        var (exit, output, error) = Run(["hash-key", "abc"]);

        Assert.Equal(0, exit);
        Assert.Equal("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", output.Trim());
        Assert.Contains("warning", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("hash-key")]
    [InlineData("hash-key", "")]
    [InlineData("hash-key", "a", "b")]
    [InlineData("hash-key", " padded-key-padded-key-padded-key-padded ")]
    public void Run_UsageErrors_ExitTwoWithoutOutput(params string[] args)
    {
        var (exit, output, error) = Run(args);

        Assert.Equal(2, exit);
        Assert.Empty(output);
        Assert.NotEmpty(error);
    }

    [Fact]
    public void Run_EmptyStandardInput_ExitsTwo()
        => Assert.Equal(2, Run(["hash-key", "-"], string.Empty).Exit);

    [Theory]
    [InlineData(new[] { "hash-key", "x" }, true)]
    [InlineData(new[] { "--urls", "http://127.0.0.1:1" }, false)]
    [InlineData(new string[0], false)]
    public void Matches_OnlyTheVerbInFirstPosition(string[] args, bool expected)
        => Assert.Equal(expected, HashKeyCommand.Matches(args));
}
