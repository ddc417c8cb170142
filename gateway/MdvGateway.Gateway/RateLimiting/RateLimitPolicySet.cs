using System.Collections.Frozen;
using System.Collections.Immutable;
using MdvGateway.Gateway.ClientIdentity;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>Every policy in force, the default policy and the exemptions: one immutable snapshot per (re)load.</summary>
internal sealed class RateLimitPolicySet
{
    private readonly FrozenDictionary<string, RateLimitPolicy> _policies;

    private RateLimitPolicySet(FrozenDictionary<string, RateLimitPolicy> policies, RateLimitPolicy? defaultPolicy, NetworkList exempt, StoreUnavailableBehavior whenStoreUnavailable)
    {
        _policies = policies;
        DefaultPolicy = defaultPolicy;
        Exempt = exempt;
        WhenStoreUnavailable = whenStoreUnavailable;
    }

    public RateLimitPolicy? DefaultPolicy { get; }

    public NetworkList Exempt { get; }

    public StoreUnavailableBehavior WhenStoreUnavailable { get; }

    public IEnumerable<RateLimitPolicy> Policies => _policies.Values;

    /// <summary>
    /// The policy for a route's <c>RateLimiterPolicy</c> value: none for <c>Disable</c>, the default policy for an
    /// empty value or <c>Default</c>.
    /// </summary>
    public RateLimitPolicy? Resolve(string? routePolicy)
    {
        if (string.IsNullOrEmpty(routePolicy) || string.Equals(routePolicy, "Default", StringComparison.OrdinalIgnoreCase))
        {
            return DefaultPolicy;
        }

        return _policies.GetValueOrDefault(routePolicy);
    }

    /// <summary>Builds the set from options that passed <see cref="RateLimitingOptionsValidator"/>.</summary>
    public static RateLimitPolicySet Create(RateLimitingOptions options)
    {
        var policies = new Dictionary<string, RateLimitPolicy>(StringComparer.Ordinal);
        foreach (var (name, policy) in options.Policies)
        {
            if (!PartitionBy.TryParse(policy.PartitionBy, out var partitionBy, out var error))
            {
                throw new InvalidOperationException(error);
            }

            var limits = policy.Limits is { Count: > 0 }
                ? policy.Limits.Select(l => new RateLimit(l.Name ?? RateLimitingOptionsValidator.DefaultLimitName(name, l.Window), l.PermitLimit, l.Window, policy.ReserveAhead))
                : [new RateLimit(name, policy.PermitLimit!.Value, policy.Window!.Value, policy.ReserveAhead)];
            policies[name] = new RateLimitPolicy(name, [.. limits], partitionBy, policy.Mode);
        }

        var frozen = policies.ToFrozenDictionary(StringComparer.Ordinal);
        var defaultPolicy = string.IsNullOrEmpty(options.DefaultPolicy) ? null : frozen[options.DefaultPolicy];
        return new RateLimitPolicySet(frozen, defaultPolicy, NetworkList.Parse(options.Exempt), options.WhenStoreUnavailable);
    }
}
