using System.Text;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// How the OpenTelemetry .NET Prometheus exporter (1.20) names an instrument: characters other than letters, digits
/// and <c>:</c> become one <c>_</c>; the unit, without its <c>{annotation}</c> parts and spelled out (<c>s</c> →
/// <c>seconds</c>, <c>By</c> → <c>bytes</c>, <c>a/b</c> → <c>a_per_b</c>), is appended unless the name already
/// contains it; counters get <c>_total</c> and gauges of unit <c>1</c> get <c>_ratio</c>. Histograms are queried
/// through their <c>_bucket</c>, <c>_sum</c> and <c>_count</c> series. <see cref="ExportedMetricsTests"/> checks these
/// rules against the real exporter.
/// </summary>
internal static class PrometheusNaming
{
    private static readonly Dictionary<string, string> Units = new(StringComparer.Ordinal)
    {
        ["d"] = "days",
        ["h"] = "hours",
        ["min"] = "minutes",
        ["s"] = "seconds",
        ["ms"] = "milliseconds",
        ["us"] = "microseconds",
        ["ns"] = "nanoseconds",
        ["By"] = "bytes",
        ["KiBy"] = "kibibytes",
        ["MiBy"] = "mebibytes",
        ["GiBy"] = "gibibytes",
        ["KBy"] = "kilobytes",
        ["MBy"] = "megabytes",
        ["GBy"] = "gigabytes",
        ["B"] = "bytes",
        ["1"] = string.Empty,
        ["%"] = "percent",
    };

    private static readonly Dictionary<string, string> PerUnits = new(StringComparer.Ordinal)
    {
        ["s"] = "second",
        ["m"] = "minute",
        ["h"] = "hour",
        ["d"] = "day",
    };

    /// <summary>The name of the metric family (the name in the <c># TYPE</c> line).</summary>
    public static string FamilyName(InstrumentShape instrument)
    {
        var name = Sanitize(instrument.Name);
        var unit = UnitSuffix(instrument.Unit);
        if (unit.Length > 0 && !name.Contains(unit, StringComparison.Ordinal))
        {
            name += "_" + unit;
        }

        if (instrument.Kind == InstrumentKind.Counter && !name.Contains("total", StringComparison.Ordinal))
        {
            name += "_total";
        }

        if (instrument.Kind == InstrumentKind.Gauge && instrument.Unit == "1" && !name.Contains("ratio", StringComparison.Ordinal))
        {
            name += "_ratio";
        }

        return name;
    }

    /// <summary>The series names a query can select for this instrument.</summary>
    public static IEnumerable<string> SeriesNames(InstrumentShape instrument)
    {
        var family = FamilyName(instrument);
        return instrument.Kind == InstrumentKind.Histogram
            ? [family + "_bucket", family + "_sum", family + "_count"]
            : [family];
    }

    internal static string Sanitize(string name)
    {
        var result = new StringBuilder(name.Length);
        foreach (var c in name)
        {
            if (char.IsLetterOrDigit(c) || c == ':')
            {
                result.Append(c);
            }
            else if (result.Length == 0 || result[^1] != '_')
            {
                result.Append('_');
            }
        }

        if (result.Length > 0 && char.IsDigit(result[0]))
        {
            result.Insert(0, '_');
        }

        return result.ToString();
    }

    internal static string UnitSuffix(string? unit)
    {
        if (string.IsNullOrEmpty(unit))
        {
            return string.Empty;
        }

        var plain = new StringBuilder(unit.Length);
        var depth = 0;
        foreach (var c in unit)
        {
            switch (c)
            {
                case '{':
                    depth++;
                    break;
                case '}' when depth > 0:
                    depth--;
                    break;
                default:
                    if (depth == 0)
                    {
                        plain.Append(c);
                    }

                    break;
            }
        }

        var text = plain.ToString();
        var slash = text.IndexOf('/', StringComparison.Ordinal);
        if (slash >= 0 && slash < text.Length - 1)
        {
            var per = text[(slash + 1)..];
            return Map(text[..slash]) + "_per_" + PerUnits.GetValueOrDefault(per, per);
        }

        return Map(text);

        static string Map(string part) => Units.GetValueOrDefault(part, part);
    }
}
