namespace MdvGateway.Gateway.Admin;

/// <summary>The roles an admin API key can hold; each endpoint requires exactly one.</summary>
internal static class AdminRoles
{
    public const string BansRead = "bans:read";
    public const string BansWrite = "bans:write";
    public const string ConfigRead = "config:read";

    public static readonly IReadOnlyList<string> All = [BansRead, BansWrite, ConfigRead];

    public static bool IsKnown(string? role) => role is BansRead or BansWrite or ConfigRead;
}
