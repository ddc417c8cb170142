using System.Text.Json;
using MdvGateway.Gateway.Auditing;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// What the audit trail shows of the admin API's writes: one <c>admin.*</c> event per write, signed with the key's name
/// (never the key), and the <c>ban.issued</c> / <c>ban.lifted</c> events of the bans it put in force or lifted. The
/// handlers call it only once Redis holds the change, so the trail never shows a write that did not happen, and before
/// they answer, so a caller that hangs up cannot make a change the trail misses.
/// </summary>
internal sealed class AdminAudit
{
    private readonly IAuditSink _sink;
    private readonly TimeProvider _time;

    public AdminAudit(IAuditSink sink, TimeProvider time)
    {
        _sink = sink;
        _time = time;
    }

    /// <summary><c>POST /admin/bans</c> answered 201.</summary>
    public void BanCreated(HttpContext context, AdminCaller caller, Ban ban, bool overrideAllowlist)
    {
        _sink.Record(AuditEvents.BanIssued(ban, caller.Name));
        _sink.Record(AuditEvents.AdminWrite(AuditEvents.AdminBanCreated, caller.Name, ban.Target, Request(context, StatusCodes.Status201Created), _time.GetUtcNow(), writer =>
        {
            WriteEnd(writer, ban.CreatedAt, ban.ExpiresAt);
            writer.WriteString("reason", ban.Reason);
            writer.WriteBoolean("overrideAllowlist", overrideAllowlist);
        }));
    }

    /// <summary><c>PATCH /admin/bans/{target}</c> answered 200; <paramref name="now"/> is the store's clock the new end was computed with.</summary>
    public void BanChanged(HttpContext context, AdminCaller caller, Ban previous, Ban changed, DateTimeOffset now)
        => _sink.Record(AuditEvents.AdminWrite(AuditEvents.AdminBanChanged, caller.Name, changed.Target, Request(context, StatusCodes.Status200OK), _time.GetUtcNow(), writer =>
        {
            WriteEnd(writer, now, changed.ExpiresAt);
            WriteInstant(writer, "previousExpiresAt", previous.ExpiresAt);
        }));

    /// <summary>
    /// <c>DELETE /admin/bans/{target}</c> once the ban is gone; <paramref name="status"/> is 204, or 503 when Redis failed
    /// afterwards, while the client's strikes were being cleared (the ban is lifted all the same).
    /// </summary>
    public void BanLifted(HttpContext context, AdminCaller caller, string target, string? origin, bool resetLevel, int status)
    {
        var at = _time.GetUtcNow();
        _sink.Record(AuditEvents.BanLifted(target, origin, resetLevel, caller.Name, at));
        _sink.Record(AuditEvents.AdminWrite(AuditEvents.AdminBanLifted, caller.Name, target, Request(context, status), at, writer =>
        {
            writer.WriteBoolean("resetLevel", resetLevel);
            writer.WriteString("origin", origin);
        }));
    }

    /// <summary>One line of an import that put its ban in force (<c>ban.issued</c>, origin <c>imported</c>).</summary>
    public void BanImported(AdminCaller caller, Ban ban) => _sink.Record(AuditEvents.BanIssued(ban, caller.Name));

    /// <summary>
    /// <c>POST /admin/bans/import</c>: answered 200, or interrupted (503, 500) after <paramref name="issued"/> bans were
    /// put in force. The counts are those of the report: <paramref name="accepted"/> valid lines, of which
    /// <paramref name="unchanged"/> found a longer ban already; <paramref name="rejected"/> invalid lines.
    /// </summary>
    public void Imported(HttpContext context, AdminCaller caller, int status, AdminRequestBody.Format format, bool overrideAllowlist, int accepted, int unchanged, int rejected, int issued)
        => _sink.Record(AuditEvents.AdminWrite(AuditEvents.AdminBanImported, caller.Name, null, Request(context, status), _time.GetUtcNow(), writer =>
        {
            writer.WriteString("format", format == AdminRequestBody.Format.Csv ? "csv" : "json");
            writer.WriteBoolean("overrideAllowlist", overrideAllowlist);
            writer.WriteNumber("accepted", accepted);
            writer.WriteNumber("unchanged", unchanged);
            writer.WriteNumber("rejected", rejected);
            writer.WriteNumber("issued", issued);
        }));

    private static (string Method, string Path, int Status) Request(HttpContext context, int status)
        => (context.Request.Method, (context.Request.PathBase + context.Request.Path).Value ?? string.Empty, status);

    /// <summary>The ban's end and its length from <paramref name="from"/>, both null for a permanent ban (as in <c>ban.issued</c>).</summary>
    private static void WriteEnd(Utf8JsonWriter writer, DateTimeOffset from, DateTimeOffset? expiresAt)
    {
        if (expiresAt is { } end)
        {
            writer.WriteSeconds("duration", end - from);
        }
        else
        {
            writer.WriteNull("duration");
        }

        WriteInstant(writer, "expiresAt", expiresAt);
    }

    private static void WriteInstant(Utf8JsonWriter writer, string name, DateTimeOffset? value)
    {
        if (value is { } instant)
        {
            writer.WriteTimestamp(name, instant);
        }
        else
        {
            writer.WriteNull(name);
        }
    }
}
