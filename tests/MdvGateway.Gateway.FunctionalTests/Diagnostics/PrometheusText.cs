using System.Globalization;
using System.Text;

namespace MdvGateway.Gateway.FunctionalTests.Diagnostics;

/// <summary>One sample line of a Prometheus text exposition: <c>name{label="value",…} value [timestamp]</c>.</summary>
public sealed record PrometheusSample(string Series, string Name, IReadOnlyDictionary<string, string> Labels, double Value);

/// <summary>A scrape of <c>/metrics</c>, parsed strictly enough to find duplicate series and label values.</summary>
public sealed class PrometheusText
{
    private PrometheusText(string text, List<PrometheusSample> samples, List<string> typeLines)
    {
        Text = text;
        Samples = samples;
        TypeLines = typeLines;
    }

    public string Text { get; }

    public IReadOnlyList<PrometheusSample> Samples { get; }

    /// <summary>Every <c># TYPE</c> line, in order.</summary>
    public IReadOnlyList<string> TypeLines { get; }

    public static async Task<PrometheusText> ScrapeAsync(HttpClient admin)
    {
        using var response = await admin.GetAsync("/metrics");
        response.EnsureSuccessStatusCode();
        return Parse(await response.Content.ReadAsStringAsync());
    }

    public static PrometheusText Parse(string text)
    {
        var samples = new List<PrometheusSample>();
        var types = new List<string>();
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal))
            {
                types.Add(line);
            }

            if (line.Length == 0 || line[0] == '#')
            {
                continue;
            }

            samples.Add(ParseSample(line));
        }

        return new PrometheusText(text, samples, types);
    }

    /// <summary>Samples of <paramref name="name"/> whose labels include every one of <paramref name="labels"/>.</summary>
    public IEnumerable<PrometheusSample> Find(string name, params (string Label, string Value)[] labels)
        => Samples.Where(s => s.Name == name && labels.All(l => s.Labels.TryGetValue(l.Label, out var v) && v == l.Value));

    private static PrometheusSample ParseSample(string line)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        var i = 0;
        while (i < line.Length && line[i] != '{' && line[i] != ' ')
        {
            i++;
        }

        var name = line[..i];
        if (i < line.Length && line[i] == '{')
        {
            i++;
            while (line[i] != '}')
            {
                var equals = line.IndexOf('=', i);
                var label = line[i..equals];
                i = equals + 2; // past ="
                var value = new StringBuilder();
                while (line[i] != '"')
                {
                    if (line[i] == '\\')
                    {
                        i++;
                        value.Append(line[i] == 'n' ? '\n' : line[i]);
                    }
                    else
                    {
                        value.Append(line[i]);
                    }

                    i++;
                }

                labels.Add(label, value.ToString());
                i++; // past the closing quote
                if (line[i] == ',')
                {
                    i++;
                }
            }

            i++; // past }
        }

        var series = line[..i];
        var rest = line[i..].Trim().Split(' ');
        var number = rest[0] switch
        {
            "+Inf" => double.PositiveInfinity,
            "-Inf" => double.NegativeInfinity,
            "NaN" => double.NaN,
            var v => double.Parse(v, NumberStyles.Float, CultureInfo.InvariantCulture),
        };
        return new PrometheusSample(series, name, labels, number);
    }
}
