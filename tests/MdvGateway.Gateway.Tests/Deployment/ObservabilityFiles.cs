using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>deploy/observability/ (alert rules, Grafana dashboard, example Prometheus configuration) and the runbook they link to.</summary>
internal static partial class ObservabilityFiles
{
    public static string Directory { get; } = Path.Combine(DeployTree.Deploy, "observability");

    public static string AlertRulesPath { get; } = Path.Combine(Directory, "alert-rules.yaml");

    public static string DashboardPath { get; } = Path.Combine(Directory, "grafana-dashboard.json");

    public static string PrometheusConfigPath { get; } = Path.Combine(Directory, "prometheus.yml");

    public static string RunbookPath { get; } = Path.Combine(DeployTree.Deploy, "OPERATIONS-RUNBOOK.md");

    /// <summary>The path the runbook URLs end with, after their (site-specific) base.</summary>
    public const string RunbookUrlPath = "deploy/OPERATIONS-RUNBOOK.md";

    public static Dictionary<string, object?> AlertRules { get; } = (Dictionary<string, object?>)Yaml.LoadAllFromFile(AlertRulesPath).Single()!;

    public static Dictionary<string, object?> PrometheusConfig { get; } = (Dictionary<string, object?>)Yaml.LoadAllFromFile(PrometheusConfigPath).Single()!;

    public static JsonObject Dashboard { get; } = JsonNode.Parse(File.ReadAllText(DashboardPath))!.AsObject();

    /// <summary>Every alerting rule of every group.</summary>
    public static IReadOnlyList<Dictionary<string, object?>> Alerts { get; } =
        AlertRules.List("groups").SelectMany(g => g.List("rules")).OfType<Dictionary<string, object?>>().Where(r => r.ContainsKey("alert")).ToList();

    public static Dictionary<string, object?> Alert(string name) => Alerts.Single(a => a.Scalar("alert") == name);

    /// <summary>Every panel, rows' nested panels included, rows themselves left out.</summary>
    public static IReadOnlyList<JsonObject> Panels { get; } = FlattenPanels(Dashboard["panels"]?.AsArray()).ToList();

    /// <summary>The dashboard's queries: (where, PromQL) for every panel target and every query variable.</summary>
    public static IReadOnlyList<(string Where, string Expression, bool IsVariable)> DashboardQueries { get; } = CollectQueries().ToList();

    /// <summary>The anchors GitHub gives the runbook's headings.</summary>
    public static IReadOnlySet<string> RunbookAnchors { get; } = RunbookHeadings().Select(Anchor).ToHashSet(StringComparer.Ordinal);

    public static string RunbookText { get; } = File.ReadAllText(RunbookPath);

    public static IEnumerable<string> RunbookHeadings()
    {
        var inFence = false;
        foreach (var line in File.ReadLines(RunbookPath))
        {
            if (line.StartsWith("```", StringComparison.Ordinal))
            {
                inFence = !inFence;
                continue;
            }

            var heading = Heading().Match(line);
            if (!inFence && heading.Success)
            {
                yield return heading.Groups[1].Value.Trim();
            }
        }
    }

    /// <summary>GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens.</summary>
    public static string Anchor(string heading)
    {
        var lower = heading.ToLowerInvariant();
        var kept = AnchorDropped().Replace(lower, string.Empty);
        return kept.Replace(' ', '-');
    }

    private static IEnumerable<JsonObject> FlattenPanels(JsonArray? panels)
    {
        foreach (var panel in panels?.OfType<JsonObject>() ?? [])
        {
            if ((string?)panel["type"] == "row")
            {
                foreach (var nested in FlattenPanels(panel["panels"]?.AsArray()))
                {
                    yield return nested;
                }

                continue;
            }

            yield return panel;
        }
    }

    private static IEnumerable<(string, string, bool)> CollectQueries()
    {
        foreach (var panel in Panels)
        {
            foreach (var target in panel["targets"]?.AsArray().OfType<JsonObject>() ?? [])
            {
                yield return ($"panel '{panel["title"]}' target {target["refId"]}", (string?)target["expr"] ?? string.Empty, false);
            }
        }

        foreach (var variable in Dashboard["templating"]?["list"]?.AsArray().OfType<JsonObject>() ?? [])
        {
            if ((string?)variable["type"] != "query")
            {
                continue;
            }

            var query = variable["query"] is JsonObject q ? (string?)q["query"] : (string?)variable["query"];
            yield return ($"variable '{variable["name"]}'", query ?? string.Empty, true);
        }
    }

    [GeneratedRegex(@"^#{1,6}\s+(.+?)\s*#*\s*$")]
    private static partial Regex Heading();

    [GeneratedRegex(@"[^\p{L}\p{Nd}\s_-]")]
    private static partial Regex AnchorDropped();
}
