using System.Text.RegularExpressions;
using MdvGateway.Gateway.ClientIdentity;

namespace MdvGateway.Gateway.RateLimiting;

internal static partial class RateLimitingOptionsValidator
{
    /// <summary>Beyond this, one client's sliding window costs tens of megabytes of Redis memory.</summary>
    internal const int MaxPermitLimit = 1_000_000;

    internal static readonly TimeSpan MinWindow = TimeSpan.FromSeconds(1);
    internal static readonly TimeSpan MaxWindow = TimeSpan.FromDays(7);

    /// <param name="options">The bound section.</param>
    /// <param name="routePolicies">Route id → the <c>RateLimiterPolicy</c> it names, from <c>ReverseProxy:Routes</c>.</param>
    /// <param name="problems">Where every problem found is added.</param>
    public static void Validate(RateLimitingOptions options, IReadOnlyDictionary<string, string?> routePolicies, ICollection<string> problems)
    {
        const string s = RateLimitingOptions.SectionName;

        foreach (var (name, policy) in options.Policies)
        {
            var path = $"{s}:Policies:{name}";
            if (!PolicyNamePattern().IsMatch(name))
            {
                problems.Add($"{path}: the policy name must be 1-64 letters, digits, '-', '_' or '.'");
            }
            else if (IsReservedName(name))
            {
                problems.Add($"{path}: '{name}' is reserved by YARP (Default uses the default policy, Disable turns limiting off)");
            }

            ValidatePolicy(path, policy, problems);
        }

        if (!string.IsNullOrEmpty(options.DefaultPolicy))
        {
            CheckPolicyReference($"{s}:DefaultPolicy", options.DefaultPolicy, options, problems);
        }

        for (var i = 0; i < options.Exempt.Count; i++)
        {
            if (!NetworkList.TryParseNetwork(options.Exempt[i], out _, out var error))
            {
                problems.Add($"{s}:Exempt:{i}: {error}");
            }
        }

        foreach (var (routeId, policyName) in routePolicies)
        {
            if (string.IsNullOrEmpty(policyName) || IsReservedName(policyName))
            {
                continue;
            }

            CheckPolicyReference($"ReverseProxy:Routes:{routeId}:RateLimiterPolicy", policyName, options, problems);
        }
    }

    /// <summary>Policy names are matched exactly, as YARP matches them; a case-only difference gets a hint.</summary>
    private static void CheckPolicyReference(string path, string policyName, RateLimitingOptions options, ICollection<string> problems)
    {
        if (options.Policies.Keys.Contains(policyName, StringComparer.Ordinal))
        {
            return;
        }

        var hint = options.Policies.Keys.FirstOrDefault(k => string.Equals(k, policyName, StringComparison.OrdinalIgnoreCase)) is { } near
            ? $" (policy names are case-sensitive; did you mean '{near}'?)"
            : KnownPolicies(options);
        problems.Add($"{path}: '{policyName}' is not defined under {RateLimitingOptions.SectionName}:Policies{hint}");
    }

    private static void ValidatePolicy(string path, RateLimitPolicyOptions policy, ICollection<string> problems)
    {
        if (!PartitionBy.TryParse(policy.PartitionBy, out _, out var partitionError))
        {
            problems.Add($"{path}:PartitionBy: {partitionError}");
        }

        var hasSingle = policy.PermitLimit is not null || policy.Window is not null;
        if (policy.Limits is { Count: > 0 } limits)
        {
            if (hasSingle)
            {
                problems.Add($"{path}: set either PermitLimit and Window, or Limits, not both");
            }

            var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            for (var i = 0; i < limits.Count; i++)
            {
                var limitPath = $"{path}:Limits:{i}";
                ValidateLimit(limitPath, limits[i].PermitLimit, limits[i].Window, problems);
                if (limits[i].Name is { } limitName && !PolicyNamePattern().IsMatch(limitName))
                {
                    problems.Add($"{limitPath}:Name: '{limitName}' must be 1-64 letters, digits, '-', '_' or '.'");
                }

                var effective = limits[i].Name ?? DefaultLimitName(path[(path.LastIndexOf(':') + 1)..], limits[i].Window);
                if (!names.Add(effective))
                {
                    problems.Add($"{limitPath}: two limits of this policy are both named '{effective}'; give them distinct Name values or windows");
                }
            }

            return;
        }

        if (policy.Limits is { Count: 0 } && !hasSingle)
        {
            problems.Add($"{path}:Limits: is empty; a policy needs at least one limit");
            return;
        }

        if (policy.PermitLimit is null)
        {
            problems.Add($"{path}:PermitLimit: is required (or use Limits)");
        }

        if (policy.Window is null)
        {
            problems.Add($"{path}:Window: is required, e.g. 00:00:01 (or use Limits)");
        }

        ValidateLimit(path, policy.PermitLimit, policy.Window, problems);
    }

    private static void ValidateLimit(string path, int? permitLimit, TimeSpan? window, ICollection<string> problems)
    {
        if (permitLimit is { } limit && limit is < 1 or > MaxPermitLimit)
        {
            problems.Add($"{path}:PermitLimit: {limit} must be between 1 and {MaxPermitLimit}");
        }

        if (window is { } w && (w < MinWindow || w > MaxWindow))
        {
            problems.Add($"{path}:Window: {w} must be between {MinWindow} and {MaxWindow}");
        }
    }

    internal static string DefaultLimitName(string policyName, TimeSpan window)
        => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{policyName}-{(long)Math.Ceiling(window.TotalSeconds)}s");

    internal static bool IsReservedName(string name)
        => string.Equals(name, "Default", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Disable", StringComparison.OrdinalIgnoreCase);

    private static string KnownPolicies(RateLimitingOptions options)
        => options.Policies.Count == 0 ? " (no policies are defined)" : $" (defined: {string.Join(", ", options.Policies.Keys.Order(StringComparer.Ordinal))})";

    [GeneratedRegex("^[A-Za-z0-9._-]{1,64}$")]
    private static partial Regex PolicyNamePattern();
}
