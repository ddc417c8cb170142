using MdvGateway.Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// The configuration a deployed gateway ends up with: its appsettings.json, then its environment variables (which
/// outrank the file), mapped the way ASP.NET Core maps them (<c>Admin__Urls</c> is <c>Admin:Urls</c>).
/// </summary>
internal static class DeployedConfiguration
{
    public static IConfigurationBuilder Builder(string appsettingsPath, IEnumerable<KeyValuePair<string, string?>> environment)
        => new ConfigurationBuilder()
            .AddJsonFile(appsettingsPath, optional: false, reloadOnChange: false)
            .AddInMemoryCollection(environment.Select(e => new KeyValuePair<string, string?>(e.Key.Replace("__", ":", StringComparison.Ordinal), e.Value)));

    public static IConfiguration Build(string appsettingsPath, IEnumerable<KeyValuePair<string, string?>> environment)
        => Builder(appsettingsPath, environment).Build();

    /// <summary>What the gateway's own start-up validation says about it: every problem, or none.</summary>
    public static IReadOnlyList<string> Problems(IConfiguration configuration)
    {
        _ = GatewaySettings.TryLoad(configuration, out var problems);
        return problems;
    }
}
