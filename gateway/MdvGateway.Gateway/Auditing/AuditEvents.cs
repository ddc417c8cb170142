using MdvGateway.Contracts;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Auditing;

/// <summary>The discrete events the gateway itself records, built in one place so their details stay consistent.</summary>
internal static class AuditEvents
{
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
    /// <param name="origin">The lifted ban's origin (<c>auto</c>, <c>manual</c>, <c>imported</c>).</param>
    /// <param name="resetLevel">Whether the client's offense level was reset too.</param>
    /// <param name="actor">Who lifted it: the admin key's name, or the node for an expiry.</param>
    /// <param name="at">When.</param>
    public static AuditEventRecorded BanLifted(string target, string origin, bool resetLevel, string actor, DateTimeOffset at)
    {
        var details = AuditDetails.Build(writer =>
        {
            writer.WriteString("origin", origin);
            writer.WriteBoolean("resetLevel", resetLevel);
        });
        return new AuditEventRecorded(Guid.CreateVersion7(at), at, AuditEventTypes.BanLifted, target, null, null, actor, details);
    }

    /// <summary>A hot reload put in force (<c>config.reloaded</c>) with the top-level sections that changed.</summary>
    public static AuditEventRecorded ConfigReloaded(IReadOnlyList<string> changedSections, DateTimeOffset at)
    {
        var details = AuditDetails.Build(writer =>
        {
            writer.WriteStartArray("changed");
            foreach (var section in changedSections)
            {
                writer.WriteStringValue(section);
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
