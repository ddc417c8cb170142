namespace MdvGateway.Gateway.Configuration;

/// <summary>
/// The mistakes in YARP's <c>ReverseProxy</c> section that YARP itself would only notice later, if at all: a route
/// naming a cluster that does not exist (YARP answers its requests 503) and a destination address that is not an
/// absolute http(s) URL (every proxied request fails). Checked with the gateway's own sections, so start-up lists
/// them with every other problem and a reload carrying one is refused as a whole.
/// </summary>
internal static class ProxyConfigurationValidator
{
    public const string SectionName = "ReverseProxy";

    public static void Validate(IConfiguration configuration, List<string> problems)
    {
        var section = configuration.GetSection(SectionName);
        var clusters = section.GetSection("Clusters").GetChildren().ToList();
        var clusterIds = new HashSet<string>(clusters.Select(c => c.Key), StringComparer.OrdinalIgnoreCase);

        foreach (var route in section.GetSection("Routes").GetChildren())
        {
            var clusterId = route["ClusterId"];
            if (!string.IsNullOrEmpty(clusterId) && !clusterIds.Contains(clusterId))
            {
                var defined = clusterIds.Count == 0 ? "none" : string.Join(", ", clusterIds.Order(StringComparer.Ordinal));
                problems.Add($"{route.Path}:ClusterId: '{clusterId}' is not defined under {SectionName}:Clusters (defined: {defined})");
            }
        }

        foreach (var destination in clusters.SelectMany(c => c.GetSection("Destinations").GetChildren()))
        {
            CheckAddress(destination.GetSection("Address"), problems);
            if (destination["Health"] is { Length: > 0 })
            {
                CheckAddress(destination.GetSection("Health"), problems);
            }
        }
    }

    private static void CheckAddress(IConfigurationSection address, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(address.Value))
        {
            problems.Add($"{address.Path}: an absolute http:// or https:// URL is required");
        }
        else if (!Uri.TryCreate(address.Value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || string.IsNullOrEmpty(uri.Host))
        {
            problems.Add($"{address.Path}: '{address.Value}' is not an absolute http:// or https:// URL");
        }
    }
}
