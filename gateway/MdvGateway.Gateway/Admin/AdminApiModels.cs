using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

// The admin API's request and response bodies. Field names are the camelCase of the property names
// (AdminJson); requests with any other field are refused.

/// <summary><c>POST /admin/bans</c>.</summary>
internal sealed class CreateBanRequest
{
    public static readonly string[] Fields = ["target", "duration", "reason", "overrideAllowlist"];
    public static readonly string[] Required = ["target", "duration"];

    public string? Target { get; set; }

    /// <summary><c>hh:mm:ss</c> or <c>d.hh:mm:ss</c>; null for a permanent ban.</summary>
    public string? Duration { get; set; }

    public string? Reason { get; set; }

    public bool OverrideAllowlist { get; set; }
}

/// <summary><c>PATCH /admin/bans/{target}</c>: exactly one of the two fields.</summary>
internal sealed class ChangeBanRequest
{
    public static readonly string[] Fields = ["expiresAt", "duration"];

    public string? ExpiresAt { get; set; }

    public string? Duration { get; set; }
}

/// <summary>One element of a JSON import.</summary>
internal sealed class ImportBanLine
{
    public static readonly string[] Fields = ["target", "duration", "reason"];
    public static readonly string[] Required = ["target", "duration"];

    public string? Target { get; set; }

    public string? Duration { get; set; }

    public string? Reason { get; set; }
}

internal sealed record BanList(int Total, int Offset, int Limit, IReadOnlyList<Ban> Items);

internal sealed record ImportReport(int Accepted, int Unchanged, IReadOnlyList<ImportRejection> Rejected);

/// <summary>A line of an import that was not applied. <c>Line</c>: the CSV line number (header = 1) or the 1-based array position.</summary>
internal sealed record ImportRejection(int Line, string? Target, string Error);

internal sealed record OffenderList(IReadOnlyList<Offender> Items);

internal sealed record PolicyList(string? DefaultPolicy, string WhenStoreUnavailable, IReadOnlyList<PolicyView> Policies);

internal sealed record PolicyView(string Name, string Mode, string PartitionBy, bool ReserveAhead, IReadOnlyList<LimitView> Limits);

internal sealed record LimitView(string Name, int PermitLimit, long WindowSeconds);
