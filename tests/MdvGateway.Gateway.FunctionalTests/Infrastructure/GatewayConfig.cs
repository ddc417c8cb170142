namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// Builds gateway configuration for a test: routes to the test's upstream, real Redis, and a key prefix of its own
/// so that tests never share counters.
/// </summary>
public sealed class GatewayConfig
{
    public GatewayConfig(string upstreamAddress)
    {
        KeyPrefix = "test-" + Guid.NewGuid().ToString("N")[..12];
        Values["urls"] = "http://127.0.0.1:0";
        Values["Admin:Urls"] = "http://127.0.0.1:0";
        Values["Redis:Configuration"] = TestEnvironment.Redis;
        Values["Redis:KeyPrefix"] = KeyPrefix;

        // Test machines are shared and busy; a request-path timeout tuned for production would turn a slow moment
        // into a fallback decision and a flaky test. Tests about Redis failures point at a dead port instead.
        Values["Redis:TimeoutMs"] = "5000";
        Values["Serilog:MinimumLevel:Default"] = "Warning";

        // Rate-limit tests look at limits alone; ban tests turn bans on and set their own ladder.
        Values["IpBans:Enabled"] = "false";

        // Tests that are not about auditing need no RabbitMQ and no spool directory (each gateway needs its own, the
        // lock allows one process per directory); audit tests turn it on with their own broker and directory.
        Values["Audit:Enabled"] = "false";
        Values["ReverseProxy:Clusters:app:Destinations:d1:Address"] = upstreamAddress.TrimEnd('/') + "/";
    }

    public string KeyPrefix { get; }

    public Dictionary<string, string?> Values { get; } = new(StringComparer.OrdinalIgnoreCase);

    public GatewayConfig Route(string id, string pathPrefix, string? policy)
    {
        Values[$"ReverseProxy:Routes:{id}:ClusterId"] = "app";
        Values[$"ReverseProxy:Routes:{id}:Match:Path"] = pathPrefix.TrimEnd('/') + "/{**rest}";
        if (policy is not null)
        {
            Values[$"ReverseProxy:Routes:{id}:RateLimiterPolicy"] = policy;
        }

        return this;
    }

    public GatewayConfig Policy(string name, int permitLimit, string window, string? partitionBy = null, string? mode = null)
    {
        Values[$"RateLimiting:Policies:{name}:PermitLimit"] = permitLimit.ToString(System.Globalization.CultureInfo.InvariantCulture);
        Values[$"RateLimiting:Policies:{name}:Window"] = window;
        if (partitionBy is not null)
        {
            Values[$"RateLimiting:Policies:{name}:PartitionBy"] = partitionBy;
        }

        if (mode is not null)
        {
            Values[$"RateLimiting:Policies:{name}:Mode"] = mode;
        }

        return this;
    }

    public GatewayConfig Set(string key, string? value)
    {
        Values[key] = value;
        return this;
    }

    public GatewayConfig List(string key, params string[] items)
    {
        for (var i = 0; i < items.Length; i++)
        {
            Values[$"{key}:{i}"] = items[i];
        }

        return this;
    }
}
