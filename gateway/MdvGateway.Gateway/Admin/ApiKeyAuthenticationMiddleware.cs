using System.Net;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.IpBans;
using Microsoft.Extensions.Primitives;
using Microsoft.Net.Http.Headers;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Authenticates and authorises requests to endpoints that carry an <see cref="AdminRoleRequirement"/>: the key comes
/// from <c>Authorization: ApiKey &lt;key&gt;</c> or <c>X-Api-Key</c>, is checked against the keys in force (they reload
/// with the configuration), and failures are limited per client address across every node
/// (<see cref="FailedAuthenticationLimiter"/>). Wrong keys and lockout refusals are counted
/// for the audit trail (<c>abuse.refused</c>, aggregated per address and reason). Neither the key nor its hash is ever
/// logged or audited.
/// </summary>
internal sealed partial class ApiKeyAuthenticationMiddleware
{
    public const string ApiKeyHeader = "X-Api-Key";
    public const string Scheme = "ApiKey";

    /// <summary>The <c>abuse.refused</c> reason of a request answered 401 because its key matches no configured key.</summary>
    public const string FailedReason = "admin-auth-failed";

    /// <summary>The <c>abuse.refused</c> reason of a request answered 429 because its address is locked out.</summary>
    public const string LockedReason = "admin-auth-locked";

    private readonly RequestDelegate _next;
    private readonly GatewaySettingsMonitor _settings;
    private readonly FailedAuthenticationLimiter _failures;
    private readonly IAuditSink _audit;
    private readonly TimeProvider _time;
    private readonly ILogger<ApiKeyAuthenticationMiddleware> _logger;
    private CompiledKeys? _keys;

    public ApiKeyAuthenticationMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, FailedAuthenticationLimiter failures, IAuditSink audit, TimeProvider time, ILogger<ApiKeyAuthenticationMiddleware> logger)
    {
        _next = next;
        _settings = settings;
        _failures = failures;
        _audit = audit;
        _time = time;
        _logger = logger;
    }

    public Task InvokeAsync(HttpContext context)
    {
        var requirement = context.GetEndpoint()?.Metadata.GetMetadata<AdminRoleRequirement>();
        if (requirement is null)
        {
            return _next(context);
        }

        var settings = _settings.Current;
        var admin = settings.Admin;
        var address = context.Connection.RemoteIpAddress;
        var client = ClientKey(address, settings.ClientIp.IPv6PrefixLength);

        // A lockout this node already knows of is refused before anything else, without a Redis call.
        if (_failures.KnownLockout(client) is { } lockedFor)
        {
            return RefuseLockedOut(context, address, client, lockedFor);
        }

        switch (ReadKey(context.Request.Headers, out var presented))
        {
            case KeyPresence.Missing:
                return AdminProblems.Unauthorized(context, $"Send an admin API key as 'Authorization: {Scheme} <key>' or '{ApiKeyHeader}: <key>'.");
            case KeyPresence.Ambiguous:
                return AdminProblems.BadRequest(context, $"Send the key once, in either 'Authorization: {Scheme}' or '{ApiKeyHeader}'.");
        }

        // The key is compared (locally, in constant time) before the shared count is asked, so that each request makes
        // one Redis call, and a wrong key's is the call that counts it. Whatever the key, a locked-out address gets the
        // same 429, so comparing first tells a guesser nothing.
        var caller = Keys(admin).Verify(presented);
        return caller is null
            ? RefuseWrongKeyAsync(context, address, client, admin)
            : AdmitAsync(context, requirement, caller, address, client, admin);
    }

    private async Task RefuseWrongKeyAsync(HttpContext context, IPAddress? address, string client, AdminOptions admin)
    {
        var at = _time.GetUtcNow();
        var verdict = await _failures.RecordFailureAsync(client, admin.AuthFailureLimit, admin.AuthFailureWindow);
        if (!verdict.Counted)
        {
            // Locked out by failures counted on other nodes: refused like any attempt from a locked-out address.
            await RefuseLockedOut(context, address, client, verdict.LockedFor ?? TimeSpan.Zero);
            return;
        }

        _audit.AbuseRefused(address is null ? null : client, FailedReason, at);
        if (verdict.LockedFor is { } duration)
        {
            Log.LockedOut(_logger, client, admin.AuthFailureLimit, (long)Math.Ceiling(duration.TotalSeconds));
        }
        else
        {
            Log.AuthenticationFailed(_logger, client);
        }

        await AdminProblems.Unauthorized(context, "The API key is not valid.");
    }

    private async Task AdmitAsync(HttpContext context, AdminRoleRequirement requirement, AdminCaller caller, IPAddress? address, string client, AdminOptions admin)
    {
        if (await _failures.LockedOutForAsync(client, admin.AuthFailureLimit, admin.AuthFailureWindow) is { } lockedFor)
        {
            await RefuseLockedOut(context, address, client, lockedFor);
            return;
        }

        if (!caller.HasRole(requirement.Role))
        {
            Log.Forbidden(_logger, caller.Name, requirement.Role, context.Request.Method, context.Request.Path.Value ?? string.Empty);
            await AdminProblems.Forbidden(context, requirement.Role);
            return;
        }

        context.Features.Set(caller);
        await _next(context);
    }

    private Task RefuseLockedOut(HttpContext context, IPAddress? address, string client, TimeSpan lockedFor)
    {
        _audit.AbuseRefused(address is null ? null : client, LockedReason, _time.GetUtcNow());
        return AdminProblems.TooManyFailures(context, lockedFor);
    }

    internal static KeyPresence ReadKey(IHeaderDictionary headers, out string key)
    {
        key = string.Empty;
        string? fromAuthorization = null;
        if (headers.TryGetValue(HeaderNames.Authorization, out var authorization))
        {
            if (authorization.Count > 1)
            {
                return KeyPresence.Ambiguous;
            }

            // Another scheme (Bearer, Basic) is not an API key: answered 401 like no key, and not counted as a guess.
            var value = authorization.ToString();
            if (value.Length > Scheme.Length && value.StartsWith(Scheme, StringComparison.OrdinalIgnoreCase) && value[Scheme.Length] == ' ')
            {
                fromAuthorization = value[(Scheme.Length + 1)..].Trim();
            }
        }

        var fromHeader = headers.TryGetValue(ApiKeyHeader, out var apiKey) ? apiKey : StringValues.Empty;
        if (fromHeader.Count > 1 || (fromAuthorization is not null && fromHeader.Count == 1))
        {
            return KeyPresence.Ambiguous;
        }

        key = (fromAuthorization ?? fromHeader.ToString()).Trim();
        return key.Length == 0 ? KeyPresence.Missing : KeyPresence.Present;
    }

    /// <summary>Failures are counted per address, per IPv6 client prefix (a /64 holder has every address in it).</summary>
    internal static string ClientKey(IPAddress? address, int ipv6PrefixLength)
    {
        if (address is null)
        {
            return "unknown";
        }

        var normalized = AddressNormalizer.Normalize(address);
        return BanTarget.TryParse(normalized.ToString(), ipv6PrefixLength, out var target, out _) ? target.Canonical : normalized.ToString();
    }

    private ApiKeySet Keys(AdminOptions admin)
    {
        // Settings are immutable snapshots: the keys are decoded again only after a reload.
        var keys = Volatile.Read(ref _keys);
        if (keys is null || !ReferenceEquals(keys.Options, admin))
        {
            keys = new CompiledKeys(admin, ApiKeySet.Create(admin.ApiKeys));
            Volatile.Write(ref _keys, keys);
        }

        return keys.Keys;
    }

    internal enum KeyPresence
    {
        Missing,
        Present,
        Ambiguous,
    }

    private sealed record CompiledKeys(AdminOptions Options, ApiKeySet Keys);

    private static partial class Log
    {
        [LoggerMessage(EventId = 5010, Level = LogLevel.Information, Message = "Admin authentication failed from {ClientAddress}")]
        public static partial void AuthenticationFailed(ILogger logger, string clientAddress);

        [LoggerMessage(EventId = 5011, Level = LogLevel.Warning, Message = "Admin authentication from {ClientAddress} locked for {Seconds} s after {Failures} failures")]
        public static partial void LockedOut(ILogger logger, string clientAddress, int failures, long seconds);

        [LoggerMessage(EventId = 5012, Level = LogLevel.Warning, Message = "Admin key {Actor} lacks the role {Role} for {Method} {Path}")]
        public static partial void Forbidden(ILogger logger, string actor, string role, string method, string path);
    }
}
