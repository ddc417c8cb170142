using MdvGateway.Gateway.Configuration;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

/// <summary><c>GET /admin/offenders</c> and <c>GET /admin/policies</c>: what the security team watches and what is in force.</summary>
internal sealed class AdminInformation
{
    public const int DefaultTop = 50;
    public const int MaxTop = 1000;

    private static readonly string[] OffenderParameters = ["top"];

    private readonly IBanStore _store;
    private readonly StoreConnection _connection;
    private readonly GatewaySettingsMonitor _settings;

    public AdminInformation(IBanStore store, StoreConnection connection, GatewaySettingsMonitor settings)
    {
        _store = store;
        _connection = connection;
        _settings = settings;
    }

    /// <summary>Clients with strikes in their window or a remembered offense level, most recently active first.</summary>
    public async Task OffendersAsync(HttpContext context)
    {
        BanAdministration.RequireParameters(context, OffenderParameters);
        if (!BanQuery.TryParseInt(context.Request.Query, "top", 1, MaxTop, DefaultTop, out var top, out var error))
        {
            throw AdminRequestException.BadRequest(error);
        }

        await _connection.FirstAttemptAsync(context.RequestAborted);
        var offenders = await _store.GetOffendersAsync(top);
        await BanAdministration.WriteJsonAsync(context, StatusCodes.Status200OK, new OffenderList(offenders), AdminJson.Responses.OffenderList);
    }

    /// <summary>The rate-limit policies in force now, after any reload.</summary>
    public Task PoliciesAsync(HttpContext context)
    {
        BanAdministration.RequireParameters(context, []);
        var limits = _settings.Current.RateLimits;
        var policies = limits.Policies
            .OrderBy(p => p.Name, StringComparer.Ordinal)
            .Select(p => new PolicyView(
                p.Name,
                p.Mode.ToString(),
                p.PartitionBy.ToString(),
                p.Limits.All(l => l.ReserveAhead),
                [.. p.Limits.Select(l => new LimitView(l.Name, l.PermitLimit, l.WindowSeconds))]))
            .ToList();
        return BanAdministration.WriteJsonAsync(
            context,
            StatusCodes.Status200OK,
            new PolicyList(limits.DefaultPolicy?.Name, limits.WhenStoreUnavailable.ToString(), policies),
            AdminJson.Responses.PolicyList);
    }
}
