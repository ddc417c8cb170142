using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.Configuration;

/// <summary>
/// Everything the request path reads from configuration, validated and compiled together. Swapped atomically on
/// reload, so a request never sees half of an edit.
/// </summary>
internal sealed class GatewaySettings
{
    private GatewaySettings(RedisOptions redis, ClientIpResolver clientIpResolver, RateLimitPolicySet rateLimits)
    {
        Redis = redis;
        ClientIpResolver = clientIpResolver;
        RateLimits = rateLimits;
    }

    public RedisOptions Redis { get; }

    public ClientIpResolver ClientIpResolver { get; }

    public RateLimitPolicySet RateLimits { get; }

    /// <summary>Validates every section the gateway owns and, if all is well, compiles them.</summary>
    /// <returns>The settings, or null with every problem found (each prefixed by its configuration path).</returns>
    public static GatewaySettings? TryLoad(IConfiguration configuration, out IReadOnlyList<string> problems)
    {
        var found = new List<string>();

        var redis = Bind<RedisOptions>(configuration, RedisOptions.SectionName, found);
        if (redis is not null)
        {
            RedisOptionsValidator.Validate(redis, found);
        }

        var clientIp = Bind<ClientIpOptions>(configuration, ClientIpOptions.SectionName, found);
        if (clientIp is not null)
        {
            ClientIpOptionsValidator.Validate(clientIp, found);
        }

        var rateLimiting = Bind<RateLimitingOptions>(configuration, RateLimitingOptions.SectionName, found);
        if (rateLimiting is not null)
        {
            RateLimitingOptionsValidator.Validate(rateLimiting, RoutePolicies(configuration), found);
        }

        if (Bind<Admin.AdminOptions>(configuration, Admin.AdminOptions.SectionName, found) is { } admin)
        {
            Admin.AdminOptionsValidator.Validate(admin, found);
        }

        problems = found;
        if (found.Count > 0)
        {
            return null;
        }

        return new GatewaySettings(
            redis!,
            new ClientIpResolver(NetworkList.Parse(clientIp!.TrustedProxies), clientIp.IPv6PrefixLength),
            RateLimitPolicySet.Create(rateLimiting!));
    }

    /// <summary>Route id → the <c>RateLimiterPolicy</c> it names.</summary>
    internal static Dictionary<string, string?> RoutePolicies(IConfiguration configuration)
        => configuration.GetSection("ReverseProxy:Routes").GetChildren()
            .ToDictionary(r => r.Key, r => r["RateLimiterPolicy"], StringComparer.OrdinalIgnoreCase);

    private static T? Bind<T>(IConfiguration configuration, string sectionName, List<string> problems)
        where T : class, new()
    {
        var section = configuration.GetSection(sectionName);
        var before = problems.Count;
        StrictConfigurationChecker.Check(section, typeof(T), problems);
        if (problems.Count > before)
        {
            return null;
        }

        try
        {
            var options = new T();
            section.Bind(options, o => o.ErrorOnUnknownConfiguration = true);
            return options;
        }
        catch (InvalidOperationException ex)
        {
            problems.Add($"{sectionName}: {ex.Message}");
            return null;
        }
    }
}
