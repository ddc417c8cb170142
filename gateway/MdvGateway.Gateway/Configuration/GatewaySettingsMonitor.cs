using Microsoft.Extensions.Primitives;

namespace MdvGateway.Gateway.Configuration;

/// <summary>
/// Holds the settings in force and replaces them when <c>appsettings.json</c> changes, but only with settings that
/// validate: an invalid edit is refused, logged with every problem, and the last good settings stay in force.
/// </summary>
internal sealed partial class GatewaySettingsMonitor : IDisposable
{
    private readonly IConfiguration _configuration;
    private readonly ILogger<GatewaySettingsMonitor> _logger;
    private readonly IDisposable _subscription;
    private readonly HashSet<string> _policyNamesAtStart;
    private readonly AcceptedProxyConfiguration? _proxy;
    private GatewaySettings _current;

    /// <param name="configuration">The configuration to watch.</param>
    /// <param name="initial">The settings validated at start.</param>
    /// <param name="logger">Where refusals are logged.</param>
    /// <param name="proxy">The routes and clusters YARP serves, updated only with accepted edits (null: no proxy).</param>
    public GatewaySettingsMonitor(IConfiguration configuration, GatewaySettings initial, ILogger<GatewaySettingsMonitor> logger, AcceptedProxyConfiguration? proxy = null)
    {
        _configuration = configuration;
        _logger = logger;
        _proxy = proxy;
        _current = initial;
        _policyNamesAtStart = initial.RateLimits.Policies.Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        _subscription = ChangeToken.OnChange(configuration.GetReloadToken, Reload);
    }

    /// <summary>Raised after new settings have been put in force.</summary>
    public event Action<GatewaySettings>? Changed;

    /// <summary>Raised when a reload is refused, with every problem (the audit trail records it).</summary>
    public event Action<IReadOnlyList<string>>? Rejected;

    public GatewaySettings Current => Volatile.Read(ref _current);

    internal void Reload()
    {
        var next = GatewaySettings.TryLoad(_configuration, out var problems);
        if (next is not null)
        {
            problems = PolicyNamesNeedingRestart();
            next = problems.Count == 0 ? next : null;
        }

        if (next is null)
        {
            Log.ReloadRejected(_logger, problems.Count, string.Join("; ", problems));
            Rejected?.Invoke(problems);
            return;
        }

        Volatile.Write(ref _current, next);
        _proxy?.Accept(_configuration);
        Log.Reloaded(_logger);
        Changed?.Invoke(next);
    }

    public void Dispose() => _subscription.Dispose();

    /// <summary>
    /// ASP.NET Core registers rate-limiter policy names once, at start, and YARP refuses routes naming any other;
    /// a reload whose routes name a policy added since start would half apply (new limits, old routes), so it is
    /// refused as a whole until a restart.
    /// </summary>
    private List<string> PolicyNamesNeedingRestart()
    {
        var problems = new List<string>();
        foreach (var (routeId, policy) in GatewaySettings.RoutePolicies(_configuration))
        {
            if (!string.IsNullOrEmpty(policy) && !RateLimiting.RateLimitingOptionsValidator.IsReservedName(policy) && !_policyNamesAtStart.Contains(policy))
            {
                problems.Add($"ReverseProxy:Routes:{routeId}:RateLimiterPolicy: policy '{policy}' was added after start; routes can name a new policy only after a restart");
            }
        }

        return problems;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "Configuration reloaded")]
        public static partial void Reloaded(ILogger logger);

        [LoggerMessage(EventId = 1002, Level = LogLevel.Error, Message = "Configuration reload refused, the last good configuration stays in force: {ProblemCount} problem(s): {Problems}")]
        public static partial void ReloadRejected(ILogger logger, int problemCount, string problems);
    }
}
