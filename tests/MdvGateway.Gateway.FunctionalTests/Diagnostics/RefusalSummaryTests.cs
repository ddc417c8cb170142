using System.Net;
using System.Text.RegularExpressions;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Diagnostics;

/// <summary>
/// A flood of refused and unrouted requests is summarised in the log (7101, per client and reason per
/// <c>RequestLog:RefusalSummaryInterval</c>), never written one line per request; admitted requests keep their line.
/// </summary>
public sealed partial class RefusalSummaryTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    [Fact]
    public async Task UnroutedAndRateLimitedRequests_AreCountedInOneLineEach_AdmittedOnesKeepTheirLine()
    {
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "tight")
            .Policy("tight", 2, "00:01:00")
            .Set("Serilog:MinimumLevel:Default", "Information")
            .Set("RequestLog:RefusalSummaryInterval", "00:00:01");
        await using var gateway = await GatewayProcess.StartAsync(config.Values);
        using var client = TestClients.From("127.0.90.1", gateway.Address);

        for (var i = 0; i < 120; i++)
        {
            Assert.Equal(HttpStatusCode.NotFound, await client.GetStatusAsync($"/nowhere/{i}"));
        }

        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 6; i++)
        {
            statuses.Add(await client.GetStatusAsync("/api/x"));
        }

        Assert.Equal(2, statuses.Count(s => s == HttpStatusCode.OK));
        Assert.Equal(4, statuses.Count(s => s == HttpStatusCode.TooManyRequests));

        var summarised = await Eventually.TrueAsync(() => Task.FromResult(
            Summary(gateway.Output, "unrouted").Sum() == 120 && Summary(gateway.Output, "rate_limited").Sum() == 4), TimeSpan.FromSeconds(10));
        var output = gateway.Output;
        Assert.True(summarised, "no refusal summary with every refusal counted:\n" + output);
        Assert.DoesNotContain("responded 404", output, StringComparison.Ordinal);
        Assert.DoesNotContain("responded 429", output, StringComparison.Ordinal);
        Assert.Equal(2, RequestLine().Count(output));
        Assert.InRange(output.Split('\n').Count(l => l.Contains("\"Id\":7101", StringComparison.Ordinal)), 2, 4);
    }

    [Fact]
    public async Task LogRefusedRequests_BringsTheirOwnLinesBack()
    {
        var config = new GatewayConfig(fixture.Upstream.Address)
            .Route("api", "/api", "Disable")
            .Set("Serilog:MinimumLevel:Default", "Information")
            .Set("RequestLog:LogRefusedRequests", "true");
        await using var gateway = await GatewayProcess.StartAsync(config.Values);
        using var client = TestClients.From("127.0.90.2", gateway.Address);

        Assert.Equal(HttpStatusCode.NotFound, await client.GetStatusAsync("/nowhere/at-all"));

        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(gateway.Output.Split('\n').Any(l => l.Contains("/nowhere/at-all", StringComparison.Ordinal) && l.Contains("responded 404", StringComparison.Ordinal)))), gateway.Output);
    }

    /// <summary>The counts of the 7101 lines for 127.0.90.1 and <paramref name="reason"/>.</summary>
    private static IEnumerable<int> Summary(string output, string reason)
        => output.Split('\n')
            .Where(l => l.Contains("\"Id\":7101", StringComparison.Ordinal) && l.Contains("\"ClientIp\":\"127.0.90.1\"", StringComparison.Ordinal) && l.Contains($"\"Reason\":\"{reason}\"", StringComparison.Ordinal))
            .Select(l => int.Parse(CountField().Match(l).Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));

    [GeneratedRegex("\"Count\":([0-9]+)")]
    private static partial Regex CountField();

    [GeneratedRegex("/api/x[^ ]* responded 200")]
    private static partial Regex RequestLine();
}
