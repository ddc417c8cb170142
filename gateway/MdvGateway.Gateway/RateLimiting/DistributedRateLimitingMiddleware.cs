using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.ClientIdentity;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.IpBans;
using Serilog;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Applies the policy a YARP route names in <c>RateLimiterPolicy</c>. It runs inside the proxy pipeline, where the
/// route is known, instead of ASP.NET Core's <c>UseRateLimiter</c>: that middleware cannot put the remaining quota on
/// admitted responses, bound the wait on the store, or run a policy in shadow mode.
/// </summary>
internal sealed class DistributedRateLimitingMiddleware
{
    private static readonly Func<object, Task> s_applyHeaders = static state =>
    {
        var (response, decision) = (AdmittedResponse)state;
        if (response.StatusCode != StatusCodes.Status429TooManyRequests)
        {
            RateLimitResponses.ApplyAdmittedHeaders(response, decision);
        }

        return Task.CompletedTask;
    };

    private readonly RequestDelegate _next;
    private readonly GatewaySettingsMonitor _settings;
    private readonly RateLimitEvaluator _evaluator;
    private readonly GatewayMetrics _metrics;
    private readonly IDiagnosticContext _diagnostics;
    private readonly StrikeRecorder _strikes;
    private readonly IAuditSink _audit;
    private readonly TimeProvider _time;
    private readonly RefusalLog _refusals;

    public DistributedRateLimitingMiddleware(RequestDelegate next, GatewaySettingsMonitor settings, RateLimitEvaluator evaluator, GatewayMetrics metrics, IDiagnosticContext diagnostics, StrikeRecorder strikes, IAuditSink audit, TimeProvider time, RefusalLog refusals)
    {
        _next = next;
        _settings = settings;
        _evaluator = evaluator;
        _metrics = metrics;
        _diagnostics = diagnostics;
        _strikes = strikes;
        _audit = audit;
        _time = time;
        _refusals = refusals;
    }

    public async Task InvokeAsync(HttpContext context)
    {
        var route = context.GetReverseProxyFeature().Route.Config;
        var routePolicy = route.RateLimiterPolicy;
        if (string.Equals(routePolicy, "Disable", StringComparison.OrdinalIgnoreCase))
        {
            await _next(context);
            return;
        }

        var rateLimits = _settings.Current.RateLimits;
        var policy = rateLimits.Resolve(routePolicy);
        if (policy is null)
        {
            await _next(context);
            return;
        }

        var client = context.GetClientIdentity();
        if (rateLimits.Exempt.Contains(client.Address))
        {
            _metrics.Exempt(policy);
            _diagnostics.Set("LimitDecision", "Exempt");
            await _next(context);
            return;
        }

        var strikeClient = policy.Mode == RateLimitMode.Enforce ? _strikes.StrikeKey(client) : null;
        var partition = Partition(policy.PartitionBy, route.RouteId, client, context.Request);
        var pending = _evaluator.EvaluateAsync(policy, partition, partition.Bucket == client.Bucket ? strikeClient : null);
        var decision = pending.IsCompletedSuccessfully ? pending.Result : await pending;
        _diagnostics.Set("LimitDecision", decision.Verdict.ToString());
        _diagnostics.Set("RateLimitPolicy", policy.Name);

        switch (decision.Verdict)
        {
            case RateLimitVerdict.Rejected:
                // Counted, never awaited: the audit trail must not slow a rejection down.
                _audit.RateLimitRejected(AuditEvents.Client(client), route.RouteId, policy.Name, decision.RejectingLimit!, _time.GetUtcNow());
                // Every rejection is a strike, except while Redis is known to be away (nowhere to count it). Redis
                // counted it in the call that decided the request when it could; otherwise (a refusal from the
                // over-limit cache, a partition in another bucket than the client) it is counted here and flushed
                // with others. A ban the strike earned is issued in the background: this answer never waits for it.
                if (strikeClient is not null && decision.Source != DecisionSource.LocalFallback)
                {
                    if (!decision.StrikeCounted)
                    {
                        _strikes.Count(strikeClient, policy);
                    }
                    else
                    {
                        _strikes.Counted();
                        if (decision.Ban is { } ban)
                        {
                            _strikes.Issue(strikeClient, policy, ban);
                        }
                    }
                }

                _refusals.Record(context, client.Key, RefusalReasons.RateLimited);
                await RateLimitResponses.WriteRejectedAsync(context, decision);
                return;
            case RateLimitVerdict.RejectedWithoutStore:
                _refusals.Record(context, client.Key, RefusalReasons.StoreUnavailable);
                await RateLimitResponses.WriteStoreUnavailableAsync(context, decision, _settings.Current.Redis.BreakDuration);
                return;
            case RateLimitVerdict.Admitted or RateLimitVerdict.AllowedWithoutStore when policy.Mode == RateLimitMode.Enforce:
                context.Response.OnStarting(s_applyHeaders, new AdmittedResponse(context.Response, decision));
                break;
        }

        // Shadow policies stay invisible to clients: no headers, never a rejection.
        await _next(context);
    }

    /// <summary>What the request is counted against, per the policy's <c>PartitionBy</c>.</summary>
    internal static string PartitionValue(PartitionBy partitionBy, string routeId, ClientIdentity.ClientIdentity client, HttpRequest request)
        => Partition(partitionBy, routeId, client, request).Value;

    /// <summary>
    /// What the request is counted against, and its Redis bucket: the client's own for address partitions, so that the
    /// refusal's strike is counted by the same call.
    /// </summary>
    internal static LimitPartition Partition(PartitionBy partitionBy, string routeId, ClientIdentity.ClientIdentity client, HttpRequest request)
    {
        switch (partitionBy.Kind)
        {
            case PartitionKind.RouteAndClientIp:
                return new LimitPartition(string.Concat(SafeSegment(routeId), ":", client.Key), client.Bucket);
            case PartitionKind.Header:
                var value = request.Headers[partitionBy.HeaderName!];
                // Without the header the client is counted by address, so omitting it is no way around the limit.
                return value.Count > 0 && !string.IsNullOrEmpty(value[0])
                    ? Header(string.Concat("h.", Redis.RedisKeys.Digest(value[0])))
                    : new LimitPartition(client.Key, client.Bucket);
            default:
                return new LimitPartition(client.Key, client.Bucket);
        }
    }

    private static LimitPartition Header(string digest) => LimitPartition.Of(digest, digest);

    /// <summary>What the admitted response's headers are written from, once the upstream's headers are in.</summary>
    private sealed record AdmittedResponse(HttpResponse Response, RateLimitDecision Decision);

    private static string SafeSegment(string value)
        => value.AsSpan().ContainsAnyExcept(SafeChars) ? Redis.RedisKeys.Digest(value) : value;

    private static readonly System.Buffers.SearchValues<char> SafeChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.");
}
