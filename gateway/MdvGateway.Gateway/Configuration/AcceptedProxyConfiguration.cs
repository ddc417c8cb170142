namespace MdvGateway.Gateway.Configuration;

/// <summary>
/// The <c>ReverseProxy</c> section as of the last configuration the gateway accepted, for YARP to load routes and
/// clusters from. YARP watches whatever configuration it is given and would apply the routes of an edit the gateway
/// refuses (a bad limit next to a new route): given this copy instead, it changes only when
/// <see cref="GatewaySettingsMonitor"/> puts an edit in force, so a refused edit is refused as a whole.
/// </summary>
internal sealed class AcceptedProxyConfiguration
{
    public const string SectionName = "ReverseProxy";

    private readonly SnapshotProvider _snapshot;

    /// <param name="source">The configuration the gateway started with (already validated).</param>
    public AcceptedProxyConfiguration(IConfiguration source)
    {
        _snapshot = new SnapshotProvider(Copy(source));
        View = new ConfigurationRoot([_snapshot]);
    }

    /// <summary>A configuration holding only the accepted <c>ReverseProxy</c> section; its reload token fires on each accepted change.</summary>
    public IConfiguration View { get; }

    /// <summary>Takes <paramref name="source"/>'s <c>ReverseProxy</c> section as the one in force.</summary>
    public void Accept(IConfiguration source) => _snapshot.Replace(Copy(source));

    private static Dictionary<string, string?> Copy(IConfiguration source)
        => source.GetSection(SectionName).AsEnumerable()
            .Where(kv => kv.Value is not null)
            .ToDictionary(kv => kv.Key, kv => kv.Value, StringComparer.OrdinalIgnoreCase);

    private sealed class SnapshotProvider : ConfigurationProvider
    {
        public SnapshotProvider(Dictionary<string, string?> data) => Data = data;

        public void Replace(Dictionary<string, string?> data)
        {
            // Saves that touch other sections (or none: watchers often fire twice) must not make YARP rebuild its routes.
            if (data.Count == Data.Count && data.All(kv => Data.TryGetValue(kv.Key, out var value) && string.Equals(value, kv.Value, StringComparison.Ordinal)))
            {
                return;
            }

            Data = data;
            OnReload();
        }
    }
}
