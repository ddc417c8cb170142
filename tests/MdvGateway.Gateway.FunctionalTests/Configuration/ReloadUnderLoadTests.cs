using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using MdvGateway.Gateway.FunctionalTests.Infrastructure;

namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>Reloads while clients are being served: no request may be dropped or fail because of one.</summary>
public sealed class ReloadUnderLoadTests(UpstreamFixture fixture) : IClassFixture<UpstreamFixture>
{
    private static JsonObject Edit(int permitLimit, string destination, bool exempt)
    {
        var json = ReloadingGateway.BaseJson(permitLimit);
        json["RateLimiting"]!["Policies"]!["auth"]!["Window"] = "00:00:01";
        json["RateLimiting"]!["Exempt"] = exempt ? new JsonArray("127.0.54.0/24") : new JsonArray();
        json["ReverseProxy"]!["Clusters"] = new JsonObject
        {
            ["app"] = new JsonObject { ["Destinations"] = new JsonObject { ["d1"] = new JsonObject { ["Address"] = destination } } },
        };
        return json;
    }

    [Fact]
    public async Task Reloads_DuringConcurrentLoad_AnswerEveryRequestWith200Or429()
    {
        await using var second = await UpstreamServer.StartAsync();
        var upstreams = new[] { fixture.Upstream.Address, second.Address };
        await using var gateway = await ReloadingGateway.StartAsync(new GatewayConfig(fixture.Upstream.Address), Edit(20, upstreams[0], exempt: false));

        var outcomes = new ConcurrentQueue<string>();
        using var stop = new CancellationTokenSource();
        var clients = Enumerable.Range(1, 4).Select(i => Task.Run(async () =>
        {
            using var client = gateway.Client($"127.0.54.{i}");
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    using var response = await client.GetAsync("/auth/load");
                    _ = await response.Content.ReadAsStringAsync();
                    outcomes.Enqueue(((int)response.StatusCode).ToString(System.Globalization.CultureInfo.InvariantCulture));
                }
                catch (HttpRequestException ex)
                {
                    outcomes.Enqueue("error: " + ex.Message);
                }
            }
        })).ToList();

        // Limits up and down, the exemption on and off, the cluster moved between two live upstreams: each edit is
        // waited for (its upstream gets traffic), so all six really happen under load.
        for (var edit = 0; edit < 6; edit++)
        {
            var destination = upstreams[(edit + 1) % 2];
            var target = edit % 2 == 0 ? second : fixture.Upstream;
            var seen = target.Requests.Count;
            await gateway.EditAsync(Edit(permitLimit: 10 + (edit * 7), destination, exempt: edit % 3 == 0));
            Assert.True(await Eventually.TrueAsync(() => Task.FromResult(target.Requests.Count > seen + 10), TimeSpan.FromSeconds(5)), $"edit {edit} not in force");
        }

        // The last edit is not exempt: before the load stops, its limit must be seen refusing (an edit's phase can be
        // too short, on a busy machine, for four clients to go over a limit of 17 or more per second).
        Assert.True(await Eventually.TrueAsync(() => Task.FromResult(outcomes.Contains("429")), TimeSpan.FromSeconds(10)), "no request was refused after the last edit");
        await stop.CancelAsync();
        await Task.WhenAll(clients);

        var counts = outcomes.GroupBy(o => o).ToDictionary(g => g.Key, g => g.Count());
        Assert.True(counts.Keys.All(k => k is "200" or "429"), string.Join(", ", counts.Select(c => $"{c.Key} x{c.Value}")));
        Assert.True(counts.GetValueOrDefault("200") > 0 && counts.GetValueOrDefault("429") > 0, string.Join(", ", counts.Select(c => $"{c.Key} x{c.Value}")));
    }
}
