using System.Text.RegularExpressions;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// Just enough of PromQL to find the metric names a query selects: string literals, label matchers (<c>{…}</c>),
/// ranges (<c>[…]</c>), grouping clauses (<c>by (…)</c>, <c>on (…)</c>, …), Grafana variables and numbers are removed;
/// what remains is functions (followed by <c>(</c>), keywords, and metric names.
/// </summary>
internal static partial class PromQl
{
    private static readonly HashSet<string> Keywords = new(StringComparer.Ordinal)
    {
        "and", "or", "unless", "bool", "offset", "by", "without", "on", "ignoring", "group_left", "group_right", "inf", "nan", "atan2",
    };

    /// <summary>The metric names <paramref name="expression"/> selects, in order of appearance.</summary>
    public static IReadOnlyList<string> MetricNames(string expression)
    {
        var text = StringLiteral().Replace(expression, " ");
        text = LabelMatchers().Replace(text, " ");
        text = Brackets().Replace(text, " ");
        text = GroupingClause().Replace(text, " ");
        var names = new List<string>();
        foreach (Match match in Identifier().Matches(text))
        {
            var rest = text.AsSpan(match.Index + match.Length).TrimStart();
            if (Keywords.Contains(match.Value) || (rest.Length > 0 && rest[0] == '('))
            {
                continue;
            }

            names.Add(match.Value);
        }

        return names;
    }

    /// <summary>
    /// The metric names of a Grafana Prometheus variable query: <c>label_values(query, label)</c>,
    /// <c>label_values(label)</c>, <c>query_result(query)</c>, or a plain expression.
    /// </summary>
    public static IReadOnlyList<string> VariableQueryMetricNames(string query)
    {
        var labelValues = LabelValuesCall().Match(query);
        if (labelValues.Success)
        {
            return labelValues.Groups["query"].Success ? MetricNames(labelValues.Groups["query"].Value) : [];
        }

        var queryResult = QueryResultCall().Match(query);
        return MetricNames(queryResult.Success ? queryResult.Groups["query"].Value : query);
    }

    [GeneratedRegex("\"(?:[^\"\\\\]|\\\\.)*\"|'(?:[^'\\\\]|\\\\.)*'|`[^`]*`")]
    private static partial Regex StringLiteral();

    [GeneratedRegex(@"\{[^{}]*\}")]
    private static partial Regex LabelMatchers();

    [GeneratedRegex(@"\[[^\[\]]*\]")]
    private static partial Regex Brackets();

    [GeneratedRegex(@"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^()]*\)")]
    private static partial Regex GroupingClause();

    // Not inside a number (1e3, 10m), a Grafana variable ($__rate_interval) or a longer identifier.
    [GeneratedRegex(@"(?<![\w:.$])[a-zA-Z_:][a-zA-Z0-9_:]*(?![\w:])")]
    private static partial Regex Identifier();

    [GeneratedRegex(@"^\s*label_values\(\s*(?:(?<query>.+),)?\s*[a-zA-Z_][a-zA-Z0-9_]*\s*\)\s*$", RegexOptions.Singleline)]
    private static partial Regex LabelValuesCall();

    [GeneratedRegex(@"^\s*query_result\((?<query>.+)\)\s*$", RegexOptions.Singleline)]
    private static partial Regex QueryResultCall();
}
