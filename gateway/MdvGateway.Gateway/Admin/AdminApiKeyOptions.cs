namespace MdvGateway.Gateway.Admin;

/// <summary>One admin API key, as an entry of <c>Admin:ApiKeys</c>.</summary>
public sealed class AdminApiKeyOptions
{
    /// <summary>
    /// Who holds the key (e.g. <c>secops</c>, <c>secops-2026-11</c>). Recorded as <c>createdBy</c> on the bans it
    /// makes and as the actor of audit events, so it never contains the key. Letters, digits, <c>. _ - @ :</c>.
    /// </summary>
    public string Name { get; set; } = string.Empty;

    /// <summary>Lowercase or uppercase hex SHA-256 of the key (64 characters), as printed by <c>hash-key</c>.</summary>
    public string Sha256 { get; set; } = string.Empty;

    /// <summary>Any of <c>bans:read</c>, <c>bans:write</c>, <c>config:read</c>. <c>bans:write</c> does not imply <c>bans:read</c>.</summary>
    public List<string> Roles { get; set; } = [];
}
