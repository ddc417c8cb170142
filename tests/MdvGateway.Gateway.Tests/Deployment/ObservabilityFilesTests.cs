using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// deploy/observability/: the alert rules, the Grafana dashboard and the example Prometheus configuration parse, carry
/// what an on-call engineer needs, link to existing runbook sections, and query only metrics the services export.
/// </summary>
public sealed partial class ObservabilityFilesTests
{
    /// <summary>The alerts issue 5 and the runbook promise; others may be added.</summary>
    private static readonly string[] RequiredAlerts =
    [
        "MdvGatewayDown",
        "MdvGatewayRateLimitRejectionSpike",
        "MdvGatewayBanSpike",
        "MdvGatewayRedisCircuitOpen",
        "MdvGatewayRedisErrors",
        "MdvGatewayAuditSpoolGrowing",
        "MdvGatewayAuditEventsDropped",
        "MdvAuditConsumerDown",
        "MdvAuditConsumerLagHigh",
        "MdvAuditConsumerBatchFailures",
        "MdvAuditEventsRejected",
    ];

    private static readonly string[] Severities = ["critical", "warning", "info"];

    public static TheoryData<string> AlertNames() => [.. ObservabilityFiles.Alerts.Select(a => a.Scalar("alert")!)];

    [Fact]
    public void AlertRules_AreRuleGroups_WithUniqueAlertNames()
    {
        var groups = ObservabilityFiles.AlertRules.List("groups").OfType<Dictionary<string, object?>>().ToList();

        Assert.NotEmpty(groups);
        Assert.All(groups, g => Assert.False(string.IsNullOrWhiteSpace(g.Scalar("name")), "every group needs a name"));
        Assert.All(groups, g => Assert.NotEmpty(g.List("rules")));
        var names = ObservabilityFiles.Alerts.Select(a => a.Scalar("alert")).ToList();
        Assert.Equal(names.Count, names.Distinct(StringComparer.Ordinal).Count());
    }

    [Fact]
    public void AlertRules_ContainEveryRequiredAlert()
    {
        var names = ObservabilityFiles.Alerts.Select(a => a.Scalar("alert")).ToHashSet(StringComparer.Ordinal);

        Assert.All(RequiredAlerts, required => Assert.Contains(required, names));
    }

    [Theory]
    [MemberData(nameof(AlertNames))]
    public void AlertRule_HasExpressionDurationSeverityAndAnnotations(string alert)
    {
        var rule = ObservabilityFiles.Alert(alert);

        Assert.False(string.IsNullOrWhiteSpace(rule.Scalar("expr")), $"{alert}: expr is empty");
        Assert.Matches(PrometheusDuration(), rule.Scalar("for") ?? string.Empty);
        Assert.Contains(rule.Scalar("labels", "severity"), Severities);
        foreach (var annotation in new[] { "summary", "description", "runbook_url" })
        {
            Assert.False(string.IsNullOrWhiteSpace(rule.Scalar("annotations", annotation)), $"{alert}: annotation {annotation} is missing");
        }
    }

    [Theory]
    [MemberData(nameof(AlertNames))]
    public void AlertRule_RunbookUrl_PointsToItsSectionOfTheRunbook(string alert)
    {
        var url = ObservabilityFiles.Alert(alert).Scalar("annotations", "runbook_url")!;

        var hash = url.IndexOf('#', StringComparison.Ordinal);
        Assert.True(hash > 0, $"{alert}: runbook_url '{url}' has no anchor");
        Assert.EndsWith(ObservabilityFiles.RunbookUrlPath, url[..hash], StringComparison.Ordinal);
        var anchor = url[(hash + 1)..];
        Assert.True(ObservabilityFiles.RunbookAnchors.Contains(anchor), $"{alert}: deploy/OPERATIONS-RUNBOOK.md has no heading with anchor '#{anchor}'");
        Assert.Equal(ObservabilityFiles.Anchor(alert), anchor);
    }

    [Fact]
    public void AlertRules_RunbookUrls_ShareOneBase()
    {
        // One base to replace when the repository is hosted somewhere else (the file's header says how).
        var bases = ObservabilityFiles.Alerts
            .Select(a => a.Scalar("annotations", "runbook_url")!)
            .Select(u => u[..u.IndexOf(ObservabilityFiles.RunbookUrlPath, StringComparison.Ordinal)])
            .Distinct(StringComparer.Ordinal)
            .ToList();

        Assert.Single(bases);
        Assert.StartsWith("https://", bases[0], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(AlertNames))]
    public void AlertRule_Expression_QueriesOnlyExportedMetrics(string alert)
    {
        var names = PromQl.MetricNames(ObservabilityFiles.Alert(alert).Scalar("expr")!);

        Assert.NotEmpty(names);
        Assert.All(names, name => Assert.True(ExportedMetrics.QueryableSeries.Contains(name), $"{alert}: '{name}' is not a metric the services export"));
    }

    [Fact]
    public void DownAlerts_WatchTheJobsOfTheExamplePrometheusConfig()
    {
        var jobs = ScrapeJobs().Keys.ToHashSet(StringComparer.Ordinal);
        var watched = ObservabilityFiles.Alerts
            .SelectMany(a => UpJob().Matches(a.Scalar("expr")!).Select(m => m.Groups[1].Value))
            .ToHashSet(StringComparer.Ordinal);

        Assert.Equal(jobs, watched);
    }

    [Fact]
    public void PrometheusConfig_ScrapesGatewayAdminAndConsumerPorts_AndLoadsTheAlertRules()
    {
        var jobs = ScrapeJobs();

        Assert.All(jobs["mdv-gateway"], t => Assert.EndsWith(":8081", t, StringComparison.Ordinal));
        Assert.All(jobs["mdv-audit-consumer"], t => Assert.EndsWith(":8082", t, StringComparison.Ordinal));
        Assert.NotEmpty(jobs["mdv-gateway"]);
        Assert.NotEmpty(jobs["mdv-audit-consumer"]);
        var ruleFiles = ObservabilityFiles.PrometheusConfig.List("rule_files").OfType<string>().ToList();
        Assert.Contains(ruleFiles, f => File.Exists(Path.Combine(ObservabilityFiles.Directory, f)) && Path.GetFullPath(Path.Combine(ObservabilityFiles.Directory, f)) == ObservabilityFiles.AlertRulesPath);
        Assert.All(ObservabilityFiles.PrometheusConfig.List("scrape_configs").OfType<Dictionary<string, object?>>(),
            job => Assert.Equal("/metrics", job.Scalar("metrics_path") ?? "/metrics"));
    }

    [Fact]
    public void Dashboard_TakesItsPrometheusDatasourceFromAVariable()
    {
        var variables = ObservabilityFiles.Dashboard["templating"]!["list"]!.AsArray().OfType<JsonObject>().ToList();
        var datasource = Assert.Single(variables, v => (string?)v["type"] == "datasource");

        Assert.Equal("datasource", (string?)datasource["name"]);
        Assert.Equal("prometheus", (string?)datasource["query"]);
        Assert.NotEmpty(ObservabilityFiles.Panels);
        foreach (var (where, node) in DatasourceReferences(variables))
        {
            Assert.True(node is JsonObject, $"{where}: datasource must be {{\"type\":\"prometheus\",\"uid\":\"${{datasource}}\"}}");
            Assert.Equal("prometheus", (string?)node!["type"]);
            Assert.Equal("${datasource}", (string?)node["uid"]);
        }
    }

    [Fact]
    public void Dashboard_Queries_SelectOnlyExportedMetrics()
    {
        var unknown = new List<string>();
        foreach (var (where, expression, isVariable) in ObservabilityFiles.DashboardQueries)
        {
            var names = isVariable ? PromQl.VariableQueryMetricNames(expression) : PromQl.MetricNames(expression);
            if (names.Count == 0)
            {
                unknown.Add($"{where}: selects no metric ('{expression}')");
            }

            unknown.AddRange(names.Where(n => !ExportedMetrics.QueryableSeries.Contains(n)).Select(n => $"{where}: '{n}' is not exported"));
        }

        Assert.NotEmpty(ObservabilityFiles.DashboardQueries);
        Assert.True(unknown.Count == 0, string.Join('\n', unknown));
    }

    [Fact]
    public void Dashboard_ShowsEveryMetricTheServicesExport_AndTheBuiltInHttpMetrics()
    {
        var used = ObservabilityFiles.DashboardQueries
            .SelectMany(q => q.IsVariable ? PromQl.VariableQueryMetricNames(q.Expression) : PromQl.MetricNames(q.Expression))
            .ToHashSet(StringComparer.Ordinal);
        var expected = ExportedMetrics.Gateway.Concat(ExportedMetrics.Consumer).Concat(ExportedMetrics.BuiltIn)
            .Where(i => i.Name != "http.server.active_requests")
            .ToList();

        Assert.All(expected, instrument => Assert.True(
            PrometheusNaming.SeriesNames(instrument).Any(used.Contains),
            $"no dashboard panel shows {instrument} ({PrometheusNaming.FamilyName(instrument)})"));
    }

    [Fact]
    public void Dashboard_PanelsHaveUniqueIdsTitlesAndDoNotOverlap()
    {
        var all = AllPanels(ObservabilityFiles.Dashboard["panels"]!.AsArray()).ToList();
        var ids = all.Select(p => (int)p["id"]!).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(ObservabilityFiles.Panels, p => Assert.False(string.IsNullOrWhiteSpace((string?)p["title"])));
        Assert.All(ObservabilityFiles.Panels, p => Assert.NotEmpty(p["targets"]!.AsArray()));

        var boxes = all.Select(p => (Title: (string?)p["title"], Grid: p["gridPos"]!.AsObject())).ToList();
        for (var i = 0; i < boxes.Count; i++)
        {
            var a = boxes[i].Grid;
            Assert.InRange((int)a["x"]! + (int)a["w"]!, 1, 24);
            for (var j = i + 1; j < boxes.Count; j++)
            {
                var b = boxes[j].Grid;
                var overlap = (int)a["x"]! < (int)b["x"]! + (int)b["w"]! && (int)b["x"]! < (int)a["x"]! + (int)a["w"]!
                    && (int)a["y"]! < (int)b["y"]! + (int)b["h"]! && (int)b["y"]! < (int)a["y"]! + (int)a["h"]!;
                Assert.False(overlap, $"panels '{boxes[i].Title}' and '{boxes[j].Title}' overlap");
            }
        }
    }

    [Fact]
    public void Runbook_DescribesEveryMetricTheServicesExport()
    {
        Assert.NotEmpty(ExportedMetrics.OwnFamilies);
        Assert.All(ExportedMetrics.OwnFamilies, family => Assert.True(
            Regex.IsMatch(ObservabilityFiles.RunbookText, $@"`{Regex.Escape(family)}(\{{[^`]*\}})?`"),
            $"deploy/OPERATIONS-RUNBOOK.md does not describe `{family}`"));
    }

    [Fact]
    public void Runbook_HasOneSectionPerAlert()
    {
        var headings = ObservabilityFiles.RunbookHeadings().ToList();

        Assert.All(ObservabilityFiles.Alerts.Select(a => a.Scalar("alert")!), alert => Assert.Single(headings, h => h == alert));
    }

    private static Dictionary<string, List<string>> ScrapeJobs()
        => ObservabilityFiles.PrometheusConfig.List("scrape_configs")
            .OfType<Dictionary<string, object?>>()
            .ToDictionary(
                job => job.Scalar("job_name")!,
                job => job.List("static_configs").SelectMany(s => s.List("targets")).OfType<string>().ToList(),
                StringComparer.Ordinal);

    private static IEnumerable<JsonObject> AllPanels(JsonArray panels)
    {
        foreach (var panel in panels.OfType<JsonObject>())
        {
            yield return panel;
            if (panel["panels"] is JsonArray nested)
            {
                foreach (var inner in AllPanels(nested))
                {
                    yield return inner;
                }
            }
        }
    }

    private static IEnumerable<(string Where, JsonNode? Node)> DatasourceReferences(IEnumerable<JsonObject> variables)
    {
        foreach (var panel in ObservabilityFiles.Panels)
        {
            yield return ($"panel '{panel["title"]}'", panel["datasource"]);
            foreach (var target in panel["targets"]?.AsArray().OfType<JsonObject>() ?? [])
            {
                yield return ($"panel '{panel["title"]}' target {target["refId"]}", target["datasource"]);
            }
        }

        foreach (var variable in variables.Where(v => (string?)v["type"] == "query"))
        {
            yield return ($"variable '{variable["name"]}'", variable["datasource"]);
        }
    }

    [GeneratedRegex(@"^\d+[smhdwy]$")]
    private static partial Regex PrometheusDuration();

    [GeneratedRegex("""up\{job="([^"]+)"\}""")]
    private static partial Regex UpJob();
}
