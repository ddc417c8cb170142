using System.Text;

namespace MdvGateway.Gateway.Auditing;

/// <summary>Which top-level configuration sections differ between two moments, for <c>config.reloaded</c>.</summary>
internal static class ConfigurationChanges
{
    /// <summary>Every top-level section with its flattened, sorted keys and values (values never leave this process).</summary>
    public static Dictionary<string, string> Snapshot(IConfiguration configuration)
    {
        var sections = new Dictionary<string, StringBuilder>(StringComparer.OrdinalIgnoreCase);
        foreach (var (key, value) in configuration.AsEnumerable().OrderBy(kv => kv.Key, StringComparer.OrdinalIgnoreCase))
        {
            if (value is null)
            {
                continue;
            }

            var separator = key.IndexOf(':', StringComparison.Ordinal);
            var section = separator < 0 ? key : key[..separator];
            if (!sections.TryGetValue(section, out var builder))
            {
                sections[section] = builder = new StringBuilder();
            }

            builder.Append(key.ToUpperInvariant()).Append('=').Append(value).Append('\n');
        }

        return sections.ToDictionary(s => s.Key, s => s.Value.ToString(), StringComparer.OrdinalIgnoreCase);
    }

    /// <summary>The sections added, removed or changed, in ordinal order.</summary>
    public static List<string> Between(IReadOnlyDictionary<string, string> before, IReadOnlyDictionary<string, string> after)
    {
        var changed = new SortedSet<string>(StringComparer.Ordinal);
        foreach (var (section, content) in after)
        {
            if (!before.TryGetValue(section, out var previous) || !string.Equals(previous, content, StringComparison.Ordinal))
            {
                changed.Add(section);
            }
        }

        foreach (var section in before.Keys)
        {
            if (!after.ContainsKey(section))
            {
                changed.Add(section);
            }
        }

        return [.. changed];
    }
}
