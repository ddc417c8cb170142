using System.Text.Json;
using MdvGateway.Contracts;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Auditing;

/// <summary>The discrete events the gateway itself records, built in one place so their details stay consistent.</summary>
internal static class AuditEvents
{
    // The admin API's writes (AuditEventTypes.AdminPrefix + what changed); deploy/SECURITY-GUIDE.md lists each one's
    // details for the security team.
    public const string AdminBanCreated = AuditEventTypes.AdminPrefix + "ban.created";
    public const string AdminBanChanged = AuditEventTypes.AdminPrefix + "ban.changed";
    public const string AdminBanLifted = AuditEventTypes.AdminPrefix + "ban.lifted";
    public const string AdminBanImported = AuditEventTypes.AdminPrefix + "ban.imported";

    /// <summary>The actor of events this node records on its own behalf.</summary>
    public static string NodeId => StrikeRecorder.NodeId;

    /// <summary>The client as the audit trail records it: its key (address or IPv6 prefix), or null when unknown.</summary>
    public static string? Client(ClientIdentity.ClientIdentity client)
        => ReferenceEquals(client, ClientIdentity.ClientIdentity.Unknown) ? null : client.Key;

    /// <summary>A ban put in force (<c>ban.issued</c>), automatic or manual; <paramref name="actor"/> defaults to the ban's author.</summary>
    public static AuditEventRecorded BanIssued(Ban ban, string? actor = null)
    {
        var details = AuditDetails.Build(writer =>
        {
            writer.WriteNumber("level", ban.Level);
            if (ban.ExpiresAt is { } expiresAt)
            {
                writer.WriteSeconds("duration", expiresAt - ban.CreatedAt);
                writer.WriteTimestamp("expiresAt", expiresAt);
            }
            else
            {
                writer.WriteNull("duration");
                writer.WriteNull("expiresAt");
            }

            writer.WriteString("origin", ban.Origin);
            if (ban.Strikes is { } strikes)
            {
                writer.WriteNumber("strikes", strikes);
            }
            else
            {
                writer.WriteNull("strikes");
            }

            writer.WriteString("reason", ban.Reason);
        });
        return new AuditEventRecorded(Guid.CreateVersion7(ban.CreatedAt), ban.CreatedAt, AuditEventTypes.BanIssued, ban.Target, null, ban.Policy, actor ?? ban.CreatedBy, details);
    }

    /// <summary>A ban lifted (<c>ban.lifted</c>), by hand or recorded at expiry.</summary>
    /// <param name="target">The address or range that was banned.</param>
    /// <param name="origin">The lifted ban's origin (<c>auto</c>, <c>manual</c>, <c>imported</c>); null when it could not be read.</param>
    /// <param name="resetLevel">Whether the client's offense level was reset too.</param>
    /// <param name="actor">Who lifted it: the admin key's name, or the node for an expiry.</param>
    /// <param name="at">When.</param>
    public static AuditEventRecorded BanLifted(string target, string? origin, bool resetLevel, string actor, DateTimeOffset at)
    {
        var details = AuditDetails.Build(writer =>
        {
            writer.WriteString("origin", origin);
            writer.WriteBoolean("resetLevel", resetLevel);
        });
        return new AuditEventRecorded(Guid.CreateVersion7(at), at, AuditEventTypes.BanLifted, target, null, null, actor, details);
    }

    /// <summary>
    /// An admin API write (<c>admin.*</c>): who made it, on what, and a summary of the request. The details start with
    /// <c>method</c>, <c>path</c> (without the query) and <c>status</c>, then whatever <paramref name="summary"/> writes.
    /// </summary>
    /// <param name="eventType">One of the <c>Admin*</c> types above.</param>
    /// <param name="actor">The admin key's name: never the key, nor its hash.</param>
    /// <param name="target">The ban target the write was about, or null (an import has many).</param>
    /// <param name="request">The request's method and path, and the status it was answered with.</param>
    /// <param name="at">When.</param>
    /// <param name="summary">Writes the write's own members (the fields sent, the counts of an import).</param>
    public static AuditEventRecorded AdminWrite(string eventType, string actor, string? target, (string Method, string Path, int Status) request, DateTimeOffset at, Action<Utf8JsonWriter> summary)
    {
        var details = AuditDetails.Build(writer =>
        {
            writer.WriteString("method", request.Method);
            writer.WriteString("path", request.Path);
            writer.WriteNumber("status", request.Status);
            summary(writer);
        });
        return new AuditEventRecorded(Guid.CreateVersion7(at), at, eventType, target, null, null, actor, details);
    }

    /// <summary>
    /// A hot reload put in force (<c>config.reloaded</c>): <c>changed</c>, the top-level sections that changed, and
    /// <c>settings</c>, the paths of the settings that changed (a list is one setting). Paths only, never values.
    /// </summary>
    public static AuditEventRecorded ConfigReloaded(IReadOnlyList<string> changedSections, IReadOnlyList<string> changedSettings, DateTimeOffset at)
    {
        var details = AuditDetails.Build(writer =>
        {
            writer.WriteStartArray("changed");
            foreach (var section in changedSections)
            {
                writer.WriteStringValue(section);
            }

            writer.WriteEndArray();
            writer.WriteStartArray("settings");
            foreach (var setting in changedSettings)
            {
                writer.WriteStringValue(setting);
            }

            writer.WriteEndArray();
        });
        return new AuditEventRecorded(Guid.CreateVersion7(at), at, AuditEventTypes.ConfigReloaded, null, null, null, NodeId, details);
    }

    /// <summary>A hot reload refused (<c>config.rejected</c>) with every problem, each starting with its configuration path.</summary>
    public static AuditEventRecorded ConfigRejected(IReadOnlyList<string> problems, DateTimeOffset at)
    {
        var details = AuditDetails.Build(writer =>
        {
            writer.WriteStartArray("problems");
            foreach (var problem in problems)
            {
                writer.WriteStringValue(problem);
            }

            writer.WriteEndArray();
        });
        return new AuditEventRecorded(Guid.CreateVersion7(at), at, AuditEventTypes.ConfigRejected, null, null, null, NodeId, details);
    }
}
