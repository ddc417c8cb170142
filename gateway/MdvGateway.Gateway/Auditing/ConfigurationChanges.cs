using System.Globalization;
using System.Text;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// Which settings differ between two moments, for <c>config.reloaded</c>: the top-level sections and, within them,
/// the settings by path. Only paths ever leave this class, never a value: a changed password or admin key shows up as
/// <c>Audit:RabbitMq:Password</c> or <c>Admin:ApiKeys</c> and nothing more.
/// </summary>
internal static class ConfigurationChanges
{
    /// <summary>
    /// Every setting with its value(s). A list counts as one setting (<c>IpBans:Allowlist</c>, <c>Admin:ApiKeys</c>),
    /// so inserting an entry names the list once instead of every entry that moved down.
    /// </summary>
    public static Dictionary<string, string> Snapshot(IConfiguration configuration)
    {
        var settings = new Dictionary<string, StringBuilder>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in configuration.AsEnumerable().OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (value is null)
            {
                continue;
            }

            var path = SettingPath(key);
            if (!settings.TryGetValue(path, out var builder))
            {
                settings[path] = builder = new StringBuilder();
            }

            builder.Append(key.ToUpperInvariant()).Append('=').Append(value).Append('\n');
        }

        return settings.ToDictionary(s => s.Key, s => s.Value.ToString(), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The top-level sections with a setting added, removed or changed, in ordinal order.</summary>
    public static List<string> Between(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after)
        => [.. SettingsBetween(before, after).Select(Section).Distinct(StringComparer.OrdinalIgnoreCase).Order(StringComparer.Ordinal)];

    /// <summary>The settings (paths) added, removed or changed, in ordinal order.</summary>
    public static List<string> SettingsBetween(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after)
    {
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (path, content) in after)
        {
            if (!before.TryGetValue(path, out var previous) || !string.Equals(previous, content, StringComparison.Ordinal))
            {
                changed.Add(path);
            }
        }

        foreach (var path in before.Keys)
        {
            if (!after.ContainsKey(path))
            {
                changed.Add(path);
            }
        }

        return [.. changed];
    }

    private static string Section(string path)
    {
        var separator = path.IndexOf(':', StringComparison.Ordinal);
        return separator < 0 ? path : path[..separator];
    }

    /// <summary>The key up to its first list index: <c>Admin:ApiKeys:0:Sha256</c> is the setting <c>Admin:ApiKeys</c>.</summary>
    private static string SettingPath(string key)
    {
        var segments = key.Split(':');
        for (var i = 1; i < segments.Length; i++)
        {
            if (int.TryParse(segments[i], NumberStyles.None, CultureInfo.InvariantCulture, out _))
            {
                return string.Join(':', segments[..i]);
            }
        }

        return key;
    }
}
