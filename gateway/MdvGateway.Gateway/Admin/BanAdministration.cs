using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.Diagnostics;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The handlers of <c>/admin/bans</c>. Reads go to Redis (the source of truth); every write goes to Redis, which
/// tells the other nodes, and then to this node's <see cref="BanCache"/>, so the change is enforced here before the
/// answer leaves. Bans are dated by Redis's clock. Every write that reached Redis is audited (<see cref="AdminAudit"/>).
/// </summary>
internal sealed partial class BanAdministration
{
    private static readonly string[] NoParameters = [];
    private static readonly string[] DeleteParameters = ["resetLevel"];
    private static readonly string[] ImportParameters = ["overrideAllowlist"];

    private readonly IBanStore _store;
    private readonly StoreConnection _connection;
    private readonly BanCache _cache;
    private readonly GatewaySettingsMonitor _settings;
    private readonly GatewayMetrics _metrics;
    private readonly AdminAudit _audit;
    private readonly ILogger<BanAdministration> _logger;

    public BanAdministration(IBanStore store, StoreConnection connection, BanCache cache, GatewaySettingsMonitor settings, GatewayMetrics metrics, AdminAudit audit, ILogger<BanAdministration> logger)
    {
        _metrics = metrics;
        _audit = audit;
        _store = store;
        _connection = connection;
        _cache = cache;
        _settings = settings;
        _logger = logger;
    }

    /// <summary><c>GET /admin/bans</c>.</summary>
    public async Task ListAsync(HttpContext context)
    {
        var ipv6 = _settings.Current.ClientIp.IPv6PrefixLength;
        if (!BanQuery.TryParse(context.Request.Query, ipv6, out var query, out var error))
        {
            throw AdminRequestException.BadRequest(error);
        }

        await _connection.FirstAttemptAsync(context.RequestAborted);
        var (total, page) = query.Apply(await _store.GetActiveAsync(), ipv6);
        if (query.Csv)
        {
            var csv = BanCsvWriter.Write(page);
            context.Response.ContentType = "text/csv; charset=utf-8";
            context.Response.Headers.CacheControl = "no-store";
            context.Response.Headers.ContentDisposition = "attachment; filename=\"bans.csv\"";
            context.Response.Headers["X-Total-Count"] = total.ToString(System.Globalization.CultureInfo.InvariantCulture);
            await context.Response.WriteAsync(csv, context.RequestAborted);
            return;
        }

        await WriteJsonAsync(context, StatusCodes.Status200OK, new BanList(total, query.Offset, query.Limit, page), AdminJson.Responses.BanList);
    }

    /// <summary><c>GET /admin/bans/{target}</c>.</summary>
    public async Task GetAsync(HttpContext context)
    {
        RequireParameters(context, NoParameters);
        var target = RouteTarget(context);
        await _connection.FirstAttemptAsync(context.RequestAborted);
        var ban = await _store.GetAsync(target.Canonical) ?? throw NoBan(target);
        await WriteJsonAsync(context, StatusCodes.Status200OK, ban, AdminJson.Responses.Ban);
    }

    /// <summary><c>POST /admin/bans</c>: a manual ban; replaces any ban on the same target.</summary>
    public async Task CreateAsync(HttpContext context)
    {
        RequireParameters(context, NoParameters);
        AdminRequestBody.RequireFormat(context.Request, allowCsv: false);
        var (request, _) = await ReadObjectAsync(context, AdminJson.Default.CreateBanRequest, CreateBanRequest.Fields, CreateBanRequest.Required);
        var settings = _settings.Current;
        if (!BanInput.TryParseTarget(request.Target, settings.ClientIp.IPv6PrefixLength, out var target, out var error)
            || !BanInput.TryParseDuration(request.Duration, out var duration, out error)
            || !BanInput.TryValidateReason(request.Reason, out error))
        {
            throw AdminRequestException.BadRequest(error);
        }

        if (BanInput.AllowlistOverlap(target, settings.IpBans.Allowlist) is { } entry && !request.OverrideAllowlist)
        {
            throw new AdminRequestException(
                StatusCodes.Status409Conflict,
                $"{target.Canonical} overlaps the allowlist entry {entry} (IpBans:Allowlist); send \"overrideAllowlist\": true to ban it anyway.",
                writer =>
                {
                    writer.WriteString("target", target.Canonical);
                    writer.WriteString("allowlistEntry", entry);
                });
        }

        var caller = Caller(context);
        await _connection.FirstAttemptAsync(context.RequestAborted);
        var now = await _store.GetTimeAsync();
        var ban = new Ban
        {
            Target = target.Canonical,
            Origin = BanOrigins.Manual,
            Reason = request.Reason,
            Level = 0,
            CreatedAt = now,
            ExpiresAt = now + duration,
            CreatedBy = caller.Name,
        };
        await _store.UpsertAsync(ban, keepLonger: false);
        _cache.Upsert(ban, settings.ClientIp.IPv6PrefixLength);
        _metrics.BanIssued(BanOrigins.Manual, 0);
        _audit.BanCreated(context, caller, ban, request.OverrideAllowlist);
        Log.Banned(_logger, caller.Name, ban.Target, ban.ExpiresAt, request.OverrideAllowlist);

        context.Response.Headers.Location = BanLocation(ban.Target);
        await WriteJsonAsync(context, StatusCodes.Status201Created, ban, AdminJson.Responses.Ban);
    }

    /// <summary><c>PATCH /admin/bans/{target}</c>: a new end, as an instant or a duration from now.</summary>
    public async Task ChangeAsync(HttpContext context)
    {
        RequireParameters(context, NoParameters);
        var target = RouteTarget(context);
        AdminRequestBody.RequireFormat(context.Request, allowCsv: false);
        var (request, present) = await ReadObjectAsync(context, AdminJson.Default.ChangeBanRequest, ChangeBanRequest.Fields, []);
        if (present.Count != 1)
        {
            throw AdminRequestException.BadRequest("Send exactly one of \"expiresAt\" (an ISO 8601 instant) or \"duration\" (from now); null for either makes the ban permanent.");
        }

        await _connection.FirstAttemptAsync(context.RequestAborted);
        var existing = await _store.GetAsync(target.Canonical) ?? throw NoBan(target);
        var now = await _store.GetTimeAsync();
        DateTimeOffset? expiresAt;
        if (present.Contains("duration"))
        {
            if (!BanInput.TryParseDuration(request.Duration, out var duration, out var error))
            {
                throw AdminRequestException.BadRequest(error);
            }

            expiresAt = now + duration;
        }
        else if (request.ExpiresAt is null)
        {
            expiresAt = null;
        }
        else
        {
            if (!BanInput.TryParseInstant(request.ExpiresAt, out var instant, out var error))
            {
                throw AdminRequestException.BadRequest("expiresAt: " + error);
            }

            if (instant <= now)
            {
                throw AdminRequestException.BadRequest("expiresAt is not in the future; use DELETE to lift a ban.");
            }

            if (instant - now > BanInput.MaxDuration)
            {
                throw AdminRequestException.BadRequest($"expiresAt is more than {BanInput.MaxDuration.Days} days away; send null for a permanent ban.");
            }

            expiresAt = instant.ToUniversalTime();
        }

        var changed = existing with { ExpiresAt = expiresAt };
        if (!await _store.ReplaceAsync(changed))
        {
            // Lifted (or expired) between the read and the write.
            throw NoBan(target);
        }

        _cache.Upsert(changed, _settings.Current.ClientIp.IPv6PrefixLength);
        if (target.IsClientKey)
        {
            // The client's offense level must outlive the ban it now has, not the one it had. The change itself is
            // done and in force on every node, so a failure here is reported, not answered 503 (a retry would
            // change nothing).
            try
            {
                await _store.RescheduleOffensesAsync(target.Canonical, expiresAt);
            }
            catch (Exception ex) when (AdminErrorMiddleware.IsStoreFailure(ex))
            {
                Log.OffensesNotRescheduled(_logger, target.Canonical, ex.GetType().Name);
            }
        }

        var caller = Caller(context);
        _audit.BanChanged(context, caller, existing, changed, now);
        Log.Changed(_logger, caller.Name, changed.Target, existing.ExpiresAt, changed.ExpiresAt);
        await WriteJsonAsync(context, StatusCodes.Status200OK, changed, AdminJson.Responses.Ban);
    }

    /// <summary><c>DELETE /admin/bans/{target}?resetLevel=</c>: lifts the ban and clears the client's strikes.</summary>
    public async Task DeleteAsync(HttpContext context)
    {
        RequireParameters(context, DeleteParameters);
        var target = RouteTarget(context);
        var resetLevel = false;
        if (BanQuery.Single(context.Request.Query, "resetLevel") is { } text && !BanInput.TryParseBoolean(text, out resetLevel))
        {
            throw AdminRequestException.BadRequest($"resetLevel: '{BanInput.Shorten(text)}' is not true or false");
        }

        await _connection.FirstAttemptAsync(context.RequestAborted);

        // Read first only for the audit trail (the lifted ban's origin); the removal decides whether there was a ban.
        var existing = await _store.GetAsync(target.Canonical);
        if (!await _store.RemoveAsync(target.Canonical))
        {
            throw NoBan(target);
        }

        _cache.Remove(target.Canonical);
        var caller = Caller(context);
        try
        {
            await _store.ClearOffensesAsync(target.Canonical, resetLevel);
        }
        catch (Exception ex) when (AdminErrorMiddleware.IsStoreFailure(ex))
        {
            // The ban is lifted already; the trail must say so, and that the caller was told 503.
            _audit.BanLifted(context, caller, target.Canonical, existing?.Origin, resetLevel, StatusCodes.Status503ServiceUnavailable);
            throw;
        }

        _audit.BanLifted(context, caller, target.Canonical, existing?.Origin, resetLevel, StatusCodes.Status204NoContent);
        Log.Lifted(_logger, caller.Name, target.Canonical, resetLevel);
        context.Response.StatusCode = StatusCodes.Status204NoContent;
    }

    internal static void RequireParameters(HttpContext context, IReadOnlyList<string> known)
    {
        if (!BanQuery.TryCheckParameters(context.Request.Query, known, out var error))
        {
            throw AdminRequestException.BadRequest(error);
        }
    }

    internal static AdminCaller Caller(HttpContext context)
        => context.Features.Get<AdminCaller>() ?? throw new InvalidOperationException("Admin endpoint reached without authentication");

    internal static Task WriteJsonAsync<T>(HttpContext context, int status, T value, JsonTypeInfo<T> typeInfo)
    {
        // Serialised before anything is sent, so a failure can still become a clean problem answer.
        var body = JsonSerializer.SerializeToUtf8Bytes(value, typeInfo);
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json; charset=utf-8";
        context.Response.Headers.CacheControl = "no-store";
        context.Response.ContentLength = body.Length;
        return context.Response.Body.WriteAsync(body, context.RequestAborted).AsTask();
    }

    private static async Task<(T Value, HashSet<string> Present)> ReadObjectAsync<T>(
        HttpContext context, JsonTypeInfo<T> typeInfo, IReadOnlyList<string> fields, IReadOnlyList<string> required)
    {
        var body = await AdminRequestBody.ReadAsync(context.Request, AdminRequestBody.MaxSingleBytes);
        using var document = StrictJson.Parse(body);
        if (!StrictJson.TryRead(document.RootElement, typeInfo, fields, required, out var value, out var present, out var error))
        {
            throw AdminRequestException.BadRequest(error);
        }

        return (value!, present);
    }

    private BanTarget RouteTarget(HttpContext context)
    {
        // Kestrel leaves %2F encoded in the path so that it cannot split segments; a CIDR's slash arrives that way.
        var raw = (context.Request.RouteValues["target"] as string ?? string.Empty).Replace("%2F", "/", StringComparison.OrdinalIgnoreCase);
        if (!BanInput.TryParseTarget(raw, _settings.Current.ClientIp.IPv6PrefixLength, out var target, out var error))
        {
            throw AdminRequestException.BadRequest(error + " (in a path, write a CIDR's slash as %2F)");
        }

        return target;
    }

    private static string BanLocation(string target) => "/admin/bans/" + Uri.EscapeDataString(target);

    private static AdminRequestException NoBan(BanTarget target) => AdminRequestException.NotFound($"No active ban on {target.Canonical}.");
}
