using System.Globalization;
using MdvGateway.Gateway.Configuration;
using Microsoft.Extensions.Configuration;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// The configuration each deployment gives the gateway passes the gateway's own start-up validation, so a deployment
/// that applies cleanly also starts.
/// </summary>
public sealed class DeployedConfigurationTests
{
    private static KubernetesBase Base => KubernetesBase.Instance;

    private static IReadOnlyList<KeyValuePair<string, string?>> KubernetesEnvironment
        => Base.Environment(Base.Gateway.Container("gateway"));

    private static IReadOnlyList<KeyValuePair<string, string?>> ComposeEnvironment(string service)
        => [.. Dockerfile.Load(DeployTree.GatewayDockerfile).Environment.Select(e => new KeyValuePair<string, string?>(e.Key, e.Value)),
            .. ComposeFile.Instance.Environment(service).Select(e => new KeyValuePair<string, string?>(e.Key, e.Value))];

    [Fact]
    public void KubernetesConfigMap_AsItIs_PassesGatewayValidation()
    {
        var problems = DeployedConfiguration.Problems(DeployedConfiguration.Build(Base.GatewayConfigFile, []));

        Assert.Empty(problems);
    }

    [Fact]
    public void KubernetesConfigMap_WithTheDeploymentsEnvironmentAndSecrets_PassesGatewayValidation()
    {
        var configuration = DeployedConfiguration.Build(Base.GatewayConfigFile, KubernetesEnvironment);

        Assert.Empty(DeployedConfiguration.Problems(configuration));
        // The environment really reached the sections it names (a misspelt variable would be silently ignored).
        Assert.NotNull(configuration["Admin:ApiKeys:0:Sha256"]);
        Assert.NotNull(configuration["Redis:Configuration"]);
        Assert.NotNull(configuration["Audit:RabbitMq:Password"]);
    }

    [Fact]
    public void KubernetesSettings_KeepTheSpoolInsideItsVolume()
    {
        var settings = Load(DeployedConfiguration.Build(Base.GatewayConfigFile, KubernetesEnvironment));
        var gateway = Base.Gateway;
        var mount = gateway.Container("gateway").List("volumeMounts").OfType<Dictionary<string, object?>>()
            .Single(m => m.Scalar("mountPath") == settings.Audit.SpoolDirectory);
        var volume = gateway.PodSpec.List("volumes").OfType<Dictionary<string, object?>>()
            .Single(v => v.Scalar("name") == mount.Scalar("name"));

        var sizeLimit = Quantity(volume.Scalar("emptyDir", "sizeLimit") ?? throw new InvalidOperationException("the spool volume needs a sizeLimit"));
        // An emptyDir that outgrows its sizeLimit gets the pod evicted: the spool must stop first.
        Assert.True(settings.Audit.MaxSpoolBytes < sizeLimit, $"Audit:MaxSpoolBytes {settings.Audit.MaxSpoolBytes} must stay below the volume's sizeLimit {sizeLimit}");
        Assert.True(Path.IsPathRooted(settings.Audit.SpoolDirectory), "the content root is read-only: the spool needs an absolute path");
    }

    [Fact]
    public void KubernetesSettings_ListenWhereTheContainerPortsAre()
    {
        var environment = KubernetesEnvironment.ToDictionary(e => e.Key, e => e.Value);
        var ports = Base.Gateway.Container("gateway").List("ports").OfType<Dictionary<string, object?>>()
            .ToDictionary(p => p.Scalar("name")!, p => int.Parse(p.Scalar("containerPort")!, CultureInfo.InvariantCulture));

        Assert.Equal(ports["public"], UrlPort(environment["ASPNETCORE_URLS"]!));
        Assert.Equal(ports["admin"], UrlPort(environment["Admin__Urls"]!));
    }

    [Fact]
    public void ComposeGatewayConfig_WithEachGatewaysEnvironment_PassesGatewayValidation()
    {
        var gateways = ComposeFile.Instance.GatewayServices;
        var configFile = Path.Combine(DeployTree.Docker, "config", "gateway", "appsettings.json");

        Assert.NotEmpty(gateways);
        Assert.Empty(ComposeFile.Instance.MissingVariables);
        Assert.All(gateways, g => Assert.Empty(DeployedConfiguration.Problems(DeployedConfiguration.Build(configFile, ComposeEnvironment(g)))));
    }

    [Fact]
    public void DeployedConfigurations_NeverTrustEveryAddressAsAProxy()
    {
        var configurations = new List<(string Where, IConfiguration Configuration)>
        {
            ("kubernetes", DeployedConfiguration.Build(Base.GatewayConfigFile, KubernetesEnvironment)),
        };
        configurations.AddRange(ComposeFile.Instance.GatewayServices.Select(g =>
            ($"compose {g}", DeployedConfiguration.Build(Path.Combine(DeployTree.Docker, "config", "gateway", "appsettings.json"), ComposeEnvironment(g)))));

        foreach (var (where, configuration) in configurations)
        {
            var trusted = Load(configuration).ClientIp.TrustedProxies;
            Assert.All(trusted, range =>
            {
                // A /0 (or any range this wide) lets every client forge X-Forwarded-For and pick its own identity.
                var prefix = range.Contains('/', StringComparison.Ordinal) ? int.Parse(range.Split('/')[1], CultureInfo.InvariantCulture) : 128;
                Assert.True(prefix >= 8, $"{where}: ClientIp:TrustedProxies contains '{range}'");
            });
        }
    }

    private static GatewaySettings Load(IConfiguration configuration)
        => GatewaySettings.TryLoad(configuration, out var problems) ?? throw new InvalidOperationException(string.Join("; ", problems));

    private static int UrlPort(string url)
        => new Uri(url.Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal)).Port;

    /// <summary>A Kubernetes quantity in bytes (<c>512Mi</c>, <c>1Gi</c>, <c>2G</c>, <c>1000</c>).</summary>
    private static long Quantity(string value)
    {
        string[] binary = ["Ki", "Mi", "Gi", "Ti"];
        string[] decimalUnits = ["k", "M", "G", "T"];
        for (var i = 0; i < binary.Length; i++)
        {
            if (value.EndsWith(binary[i], StringComparison.Ordinal))
            {
                return long.Parse(value[..^2], CultureInfo.InvariantCulture) << (10 * (i + 1));
            }

            if (value.EndsWith(decimalUnits[i], StringComparison.Ordinal))
            {
                return long.Parse(value[..^1], CultureInfo.InvariantCulture) * (long)Math.Pow(1000, i + 1);
            }
        }

        return long.Parse(value, CultureInfo.InvariantCulture);
    }
}
