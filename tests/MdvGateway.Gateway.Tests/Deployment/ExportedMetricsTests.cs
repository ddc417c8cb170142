using System.Diagnostics.Metrics;
using System.Text.RegularExpressions;
using MdvGateway.AuditConsumer.Diagnostics;
using MdvGateway.Gateway.Diagnostics;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry.Metrics;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// The names the observability files are checked against: derived from the code, and equal to what the real
/// OpenTelemetry Prometheus exporter writes.
/// </summary>
public sealed partial class ExportedMetricsTests
{
    [Fact]
    public void ExportedMetrics_ComeFromBothServicesMetricsClasses()
    {
        Assert.NotEmpty(ExportedMetrics.Gateway);
        Assert.NotEmpty(ExportedMetrics.Consumer);
        Assert.All(ExportedMetrics.Gateway, i => Assert.StartsWith("mdv.gateway.", i.Name, StringComparison.Ordinal));
        Assert.All(ExportedMetrics.Consumer, i => Assert.StartsWith("mdv.audit.", i.Name, StringComparison.Ordinal));
        Assert.Contains(ExportedMetrics.Gateway, i => i.Kind == InstrumentKind.Histogram);
        Assert.Contains(ExportedMetrics.Gateway, i => i.Kind == InstrumentKind.Gauge);
        Assert.Contains(ExportedMetrics.Consumer, i => i.Kind == InstrumentKind.Counter);
    }

    [Theory]
    [InlineData("mdv.x.requests", "{request}", InstrumentKind.Counter, "mdv_x_requests_total")]
    [InlineData("mdv.x.duration", "s", InstrumentKind.Histogram, "mdv_x_duration_seconds")]
    [InlineData("mdv.x.spool.size", "By", InstrumentKind.Gauge, "mdv_x_spool_size_bytes")]
    [InlineData("mdv.x.queue.length", "{event}", InstrumentKind.Gauge, "mdv_x_queue_length")]
    [InlineData("mdv.x.near_limit", null, InstrumentKind.Counter, "mdv_x_near_limit_total")]
    [InlineData("mdv.x.wait_seconds", "s", InstrumentKind.Gauge, "mdv_x_wait_seconds")]
    [InlineData("mdv.x.usage", "1", InstrumentKind.Gauge, "mdv_x_usage_ratio")]
    [InlineData("mdv.x.io", "By/s", InstrumentKind.Gauge, "mdv_x_io_bytes_per_second")]
    public void PrometheusNaming_AppendsUnitAndTypeSuffixes(string name, string? unit, InstrumentKind kind, string expected)
        => Assert.Equal(expected, PrometheusNaming.FamilyName(new InstrumentShape(name, unit, kind)));

    [Fact]
    public void PrometheusNaming_QueriesHistogramsThroughTheirSeries()
        => Assert.Equal(
            ["a_b_seconds_bucket", "a_b_seconds_sum", "a_b_seconds_count"],
            PrometheusNaming.SeriesNames(new InstrumentShape("a.b", "s", InstrumentKind.Histogram)));

    [Fact]
    public void PromQl_MetricNames_SkipFunctionsKeywordsLabelsRangesAndVariables()
    {
        const string Expression = """
            histogram_quantile(0.99, sum by (instance, le) (rate(a_seconds_bucket{job="$job", instance=~"x|y"}[$__rate_interval])))
              > 0.05 and on (instance) sum without (reason) (increase(b_total[10m] offset 1h)) > bool 1
              unless c_total{reason="queue_full"} or max(d) by (policy) / ignoring(x) group_left(y) e
            """;

        Assert.Equal(["a_seconds_bucket", "b_total", "c_total", "d", "e"], PromQl.MetricNames(Expression));
    }

    [Theory]
    [InlineData("label_values(up{job=\"$gateway_job\"}, instance)", new[] { "up" })]
    [InlineData("label_values(instance)", new string[0])]
    [InlineData("query_result(topk(5, sum by (policy) (rate(x_total[5m]))))", new[] { "x_total" })]
    public void PromQl_VariableQueries_YieldTheirMetricNames(string query, string[] expected)
        => Assert.Equal(expected, PromQl.VariableQueryMetricNames(query));

    [Fact]
    public async Task PrometheusNaming_MatchesWhatTheOpenTelemetryExporterWrites()
    {
        // The real exporter, on a throwaway listener, fed one measurement per instrument of both services.
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddMetrics();
        builder.Services.AddSingleton<GatewayMetrics>();
        builder.Services.AddSingleton<AuditMetrics>();
        builder.Services.AddOpenTelemetry().WithMetrics(metrics => metrics
            .AddMeter(GatewayMetrics.MeterName, AuditMetrics.MeterName)
            .AddPrometheusExporter());
        await using var app = builder.Build();
        app.MapPrometheusScrapingEndpoint("/metrics");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await app.StartAsync(timeout.Token);

        var factory = app.Services.GetRequiredService<IMeterFactory>();
        var instruments = new List<Instrument>();
        using (var listener = new MeterListener())
        {
            listener.InstrumentPublished = (instrument, _) =>
            {
                if (ReferenceEquals(instrument.Meter.Scope, factory) && instrument.Meter.Name is GatewayMetrics.MeterName or AuditMetrics.MeterName)
                {
                    lock (instruments)
                    {
                        instruments.Add(instrument);
                    }
                }
            };
            listener.Start();
            // Gauges that only report once their source is attached or has run (the audit broker, the queue reader,
            // the ban list's first load).
            app.Services.GetRequiredService<GatewayMetrics>().ObserveAuditBroker(() => true);
            app.Services.GetRequiredService<GatewayMetrics>().BanListLoaded();
            app.Services.GetRequiredService<AuditMetrics>().QueuesObserved([new AuditQueueDepth("audit-events", 0, 1)]);
        }

        foreach (var instrument in instruments)
        {
            switch (instrument)
            {
                case Counter<long> counter:
                    counter.Add(1);
                    break;
                case Histogram<double> histogram:
                    histogram.Record(1);
                    break;
                case Histogram<int> histogram:
                    histogram.Record(1);
                    break;
            }
        }

        using var client = new HttpClient { BaseAddress = new Uri(app.Urls.First()) };
        var text = await client.GetStringAsync(new Uri("/metrics", UriKind.Relative), timeout.Token);
        await app.StopAsync(timeout.Token);

        var written = TypeLine().Matches(text)
            .Select(m => (Name: m.Groups["name"].Value, Type: m.Groups["type"].Value))
            .Where(f => f.Name.StartsWith("mdv_", StringComparison.Ordinal))
            .Order()
            .ToList();
        var expected = ExportedMetrics.Gateway.Concat(ExportedMetrics.Consumer)
            .Select(i => (Name: PrometheusNaming.FamilyName(i), Type: i.Kind.ToString().ToLowerInvariant()))
            .Order()
            .ToList();

        Assert.Equal(instruments.Count, expected.Count);
        Assert.Equal(expected, written);
    }

    [GeneratedRegex(@"^# TYPE (?<name>\S+) (?<type>\S+)$", RegexOptions.Multiline)]
    private static partial Regex TypeLine();
}
