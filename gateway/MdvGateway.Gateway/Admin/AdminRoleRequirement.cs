namespace MdvGateway.Gateway.Admin;

/// <summary>Endpoint metadata: the role a caller's key needs. Endpoints without it need no key.</summary>
internal sealed record AdminRoleRequirement(string Role);
