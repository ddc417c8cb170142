namespace MdvGateway.Gateway.Admin;

/// <summary>The holder of a verified admin key: its configured name (never the key) and roles.</summary>
internal sealed record AdminCaller(string Name, IReadOnlyList<string> Roles)
{
    public bool HasRole(string role) => Roles.Contains(role, StringComparer.Ordinal);
}
