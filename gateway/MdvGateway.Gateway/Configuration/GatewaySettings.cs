using MdvGateway.Gateway.Admin;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.Hosting;
using MdvGateway.Gateway.IpBans;
using MdvGateway.Gateway.RateLimiting;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.Configuration;

/// <summary>
/// Everything the request path reads from configuration, validated and compiled together. Swapped atomically on
/// reload, so a request never sees half of an edit.
/// </summary>
internal sealed class GatewaySettings
{
    private GatewaySettings(RedisOptions redis, ClientIpOptions clientIp, RateLimitPolicySet rateLimits, IpBanOptions ipBans, AdminOptions admin, AuditOptions audit)
    {
        Admin = admin;
        Audit = audit;
        Redis = redis;
        ClientIp = clientIp;
        ClientIpResolver = new ClientIpResolver(NetworkList.Parse(clientIp.TrustedProxies), clientIp.IPv6PrefixLength);
        RateLimits = rateLimits;
        IpBans = ipBans;
        BanAllowlist = NetworkList.Parse(ipBans.Allowlist);
        Strikes = new StrikePolicy(ipBans.StrikesBeforeBan, ipBans.StrikeWindow, ipBans.EffectiveBanDurations, ipBans.ForgetOffensesAfter);
    }

    public RedisOptions Redis { get; }

    /// <summary>The public listener's Kestrel limits; read once at start (a change needs a restart).</summary>
    public ListenerLimitsOptions Listener { get; private init; } = new();

    /// <summary>How long a request may take in all; read once at start.</summary>
    public RequestTimeoutsOptions RequestTimeouts { get; private init; } = new();

    /// <summary>How refused and unrouted requests are logged; read once at start.</summary>
    public Diagnostics.RequestLogOptions RequestLog { get; private init; } = new();

    /// <summary>The admin listener's settings; its URLs are read once at start, its keys on every reload.</summary>
    public AdminOptions Admin { get; }

    public ClientIpOptions ClientIp { get; }

    /// <summary>The audit pipeline's settings; read once at start (a change needs a restart).</summary>
    public AuditOptions Audit { get; }

    public ClientIpResolver ClientIpResolver { get; }

    public IpBanOptions IpBans { get; }

    /// <summary>Addresses never banned automatically.</summary>
    public NetworkList BanAllowlist { get; }

    public StrikePolicy Strikes { get; }

    public RateLimitPolicySet RateLimits { get; }

    /// <summary>Validates every section the gateway owns and, if all is well, compiles them.</summary>
    /// <returns>The settings, or null with every problem found (each prefixed by its configuration path).</returns>
    public static GatewaySettings? TryLoad(IConfiguration configuration, out IReadOnlyList<string> problems)
    {
        // Keys that are unknown or do not convert are reported once; the rest of their section is still bound and
        // checked, so one typo never hides the other mistakes of the same edit.
        var structural = new List<string>();
        var badPaths = new List<string>();
        var semantic = new List<string>();

        var redis = Bind<RedisOptions>(configuration, RedisOptions.SectionName, structural, badPaths);
        RedisOptionsValidator.Validate(redis, semantic);

        var clientIp = Bind<ClientIpOptions>(configuration, ClientIpOptions.SectionName, structural, badPaths);
        ClientIpOptionsValidator.Validate(clientIp, semantic);

        var rateLimiting = Bind<RateLimitingOptions>(configuration, RateLimitingOptions.SectionName, structural, badPaths);
        RateLimitingOptionsValidator.Validate(rateLimiting, RoutePolicies(configuration), semantic);

        var ipBans = Bind<IpBanOptions>(configuration, IpBanOptions.SectionName, structural, badPaths);
        IpBanOptionsValidator.Validate(ipBans, semantic);

        var admin = Bind<AdminOptions>(configuration, AdminOptions.SectionName, structural, badPaths);
        AdminOptionsValidator.Validate(admin, semantic);

        var audit = Bind<AuditOptions>(configuration, AuditOptions.SectionName, structural, badPaths);
        AuditOptionsValidator.Validate(audit, semantic);

        var listener = Bind<ListenerLimitsOptions>(configuration, ListenerLimitsOptions.SectionName, structural, badPaths);
        ListenerLimitsOptionsValidator.Validate(listener, semantic);

        var timeouts = Bind<RequestTimeoutsOptions>(configuration, RequestTimeoutsOptions.SectionName, structural, badPaths);
        RequestTimeoutsOptionsValidator.Validate(timeouts, semantic);

        var requestLog = Bind<Diagnostics.RequestLogOptions>(configuration, Diagnostics.RequestLogOptions.SectionName, structural, badPaths);
        Diagnostics.RequestLogOptionsValidator.Validate(requestLog, semantic);

        ProxyConfigurationValidator.Validate(configuration, semantic);

        // Validators name the bad value where that helps; a secret that ends up in one (a password pasted into a host
        // name) is masked here, the one place every message passes on its way to the console, the log and the audit.
        var secrets = SecretSettings.Values(configuration);
        var found = structural
            .Concat(semantic.Where(problem => !badPaths.Exists(bad => problem.StartsWith(bad + ":", StringComparison.OrdinalIgnoreCase))))
            .Select(problem => SecretSettings.Redact(problem, secrets))
            .ToList();
        problems = found;
        if (found.Count > 0)
        {
            return null;
        }

        return new GatewaySettings(redis, clientIp, RateLimitPolicySet.Create(rateLimiting), ipBans, admin, audit) { Listener = listener, RequestTimeouts = timeouts, RequestLog = requestLog };
    }

    /// <summary>Route id → the <c>RateLimiterPolicy</c> it names.</summary>
    internal static Dictionary<string, string?> RoutePolicies(IConfiguration configuration)
        => configuration.GetSection("ReverseProxy:Routes").GetChildren()
            .ToDictionary(r => r.Key, r => r["RateLimiterPolicy"], StringComparer.OrdinalIgnoreCase);

    private static T Bind<T>(IConfiguration configuration, string sectionName, List<string> problems, List<string> badPaths)
        where T : class, new()
    {
        var section = configuration.GetSection(sectionName);
        var bad = StrictConfigurationChecker.Check(section, typeof(T), problems);
        badPaths.AddRange(bad);

        IConfiguration source = section;
        if (bad.Count > 0)
        {
            var good = section.AsEnumerable()
                .Where(kv => kv.Value is not null && !bad.Any(b => kv.Key.Equals(b, StringComparison.OrdinalIgnoreCase) || kv.Key.StartsWith(b + ":", StringComparison.OrdinalIgnoreCase)));
            source = new ConfigurationBuilder().AddInMemoryCollection(good).Build().GetSection(sectionName);
        }

        var options = new T();
        try
        {
            source.Bind(options);
        }
        catch (InvalidOperationException ex)
        {
            problems.Add($"{sectionName}: {ex.Message}");
        }

        return options;
    }
}
