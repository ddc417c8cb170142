using System.Text.Json;
using MdvGateway.Gateway.Admin;

namespace MdvGateway.Gateway.Tests.Admin;

public sealed class StrictJsonTests
{
    private static (bool Ok, CreateBanRequest? Value, HashSet<string> Present, string Error) Read(string json)
    {
        using var document = JsonDocument.Parse(json);
        var ok = StrictJson.TryRead(document.RootElement, AdminJson.Default.CreateBanRequest, CreateBanRequest.Fields, CreateBanRequest.Required, out var value, out var present, out var error);
        return (ok, value, present, error);
    }

    [Fact]
    public void TryRead_ValidObject_ReadsEveryField()
    {
        var (ok, value, present, _) = Read("""{"target":"1.2.3.4","duration":null,"reason":"r","overrideAllowlist":true}""");

        Assert.True(ok);
        Assert.Equal("1.2.3.4", value!.Target);
        Assert.Null(value.Duration);
        Assert.True(value.OverrideAllowlist);
        Assert.Equal(["target", "duration", "reason", "overrideAllowlist"], present);
    }

    [Fact]
    public void TryRead_FieldNamesAreCaseInsensitive()
        => Assert.True(Read("""{"Target":"1.2.3.4","DURATION":"01:00:00"}""").Ok);

    [Theory]
    [InlineData("""{"target":"1.2.3.4","duration":null,"durantion":"01:00:00"}""", "unknown field 'durantion'")]
    [InlineData("""{"target":"1.2.3.4","duration":null,"Target":"5.6.7.8"}""", "field 'target' appears more than once")]
    [InlineData("""{"target":"1.2.3.4"}""", "field 'duration' is required")]
    [InlineData("""{"target":"1.2.3.4","duration":3600}""", "field 'duration' has the wrong type")]
    [InlineData("""{"target":"1.2.3.4","duration":null,"overrideAllowlist":"yes"}""", "field 'overrideAllowlist' has the wrong type")]
    [InlineData("""[{"target":"1.2.3.4","duration":null}]""", "expected a JSON object, found an array")]
    [InlineData("null", "expected a JSON object, found null")]
    public void TryRead_Refusals_NameTheProblem(string json, string expected)
    {
        var (ok, _, _, error) = Read(json);

        Assert.False(ok);
        Assert.Contains(expected, error, StringComparison.Ordinal);
        Assert.DoesNotContain("MdvGateway", error, StringComparison.Ordinal);
    }
}
