using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>deploy/docker/compose.yaml: two gateways from one image behind haproxy, nothing private published.</summary>
public sealed class ComposeTests
{
    private static ComposeFile Compose => ComposeFile.Instance;

    private static Dockerfile GatewayImage { get; } = Dockerfile.Load(DeployTree.GatewayDockerfile);

    [Fact]
    public void Compose_RequiresEverySecretFromTheEnvironmentFile()
    {
        var withoutValues = ComposeFile.Load(new Dictionary<string, string>());
        var example = File.ReadAllLines(Path.Combine(DeployTree.Docker, ".env.example"))
            .Where(l => l.Contains('=', StringComparison.Ordinal) && !l.TrimStart().StartsWith('#'))
            .Select(l => l.Split('=')[0].Trim())
            .ToHashSet(StringComparer.Ordinal);

        // No password or key has a default; .env.example names each of them.
        Assert.Equal(ComposeFile.RequiredVariables.Keys.Order(), withoutValues.MissingVariables.Distinct().Order());
        Assert.Subset(example, ComposeFile.RequiredVariables.Keys.ToHashSet(StringComparer.Ordinal));
    }

    [Fact]
    public void Builds_UseDockerfilesThatExist()
    {
        var builds = Compose.Services.Where(s => s.Value.At("build") is not null).ToList();

        Assert.NotEmpty(builds);
        Assert.All(builds, b => Assert.True(File.Exists(ComposeFile.DockerfileOf(b.Value)), $"{b.Key}: {ComposeFile.DockerfileOf(b.Value)} does not exist"));
    }

    [Fact]
    public void DependsOn_NamesServicesOfTheFile()
    {
        var dependencies = Compose.Services.SelectMany(s => (s.Value.MapOrNull("depends_on")?.Keys ?? Enumerable.Empty<string>()).Select(d => (s.Key, d)));

        Assert.All(dependencies, d => Assert.True(Compose.Services.ContainsKey(d.d), $"{d.Key} depends on unknown service {d.d}"));
    }

    [Fact]
    public void Gateways_AreAtLeastTwoFromOneImageEachWithItsOwnSpool()
    {
        var gateways = Compose.GatewayServices;
        var spool = GatewayImage.Environment["Audit__SpoolDirectory"];

        Assert.True(gateways.Count >= 2, $"compose runs {gateways.Count} gateway(s); the point is several behind one balancer");
        Assert.Single(gateways.Select(g => Compose.Service(g).Scalar("image")).Distinct());
        var spoolVolumes = gateways.Select(g => Volumes(g).Single(v => v.Target == spool).Source).ToList();
        // The gateway locks its spool exclusively: two processes cannot share one.
        Assert.Equal(spoolVolumes.Count, spoolVolumes.Distinct().Count());
        Assert.All(spoolVolumes, v => Assert.True(Compose.Root.MapOrNull("volumes")?.ContainsKey(v) == true, $"{v} is not a named volume"));
    }

    [Fact]
    public void Gateways_RunReadOnlyWithTheirConfigurationDirectoryMounted()
    {
        var contentRoot = GatewayImage.Environment["ASPNETCORE_CONTENTROOT"];

        Assert.All(Compose.GatewayServices, g =>
        {
            var service = Compose.Service(g);
            Assert.Equal("true", service.Scalar("read_only"));
            Assert.Contains(service.List("tmpfs").OfType<string>(), t => t.Split(':')[0] == "/tmp");
            var config = Volumes(g).Single(v => v.Target == contentRoot);
            // A directory: editors and kubelets replace files, and a single-file bind mount keeps the old one.
            Assert.True(Directory.Exists(Path.Combine(DeployTree.Docker, config.Source)), $"{g}: {config.Source} must be a directory");
            Assert.True(File.Exists(Path.Combine(DeployTree.Docker, config.Source, "appsettings.json")), $"{g}: no appsettings.json in {config.Source}");
        });
    }

    [Fact]
    public void Ports_OnlyTheBalancerPublishesBeyondLoopback()
    {
        foreach (var (name, service) in Compose.Services)
        {
            foreach (var port in service.List("ports").OfType<string>())
            {
                var parts = port.Split(':');
                var onLoopback = parts.Length == 3 && IPAddress.TryParse(parts[0], out var address) && IPAddress.IsLoopback(address);
                Assert.True(name == "lb" || onLoopback, $"{name} publishes {port} beyond the host's loopback");
            }
        }

        Assert.Contains(Compose.Service("lb").List("ports").OfType<string>(), p => p.EndsWith(":8080", StringComparison.Ordinal));
    }

    [Fact]
    public void Gateways_TrustOnlyTheBalancersAddress()
    {
        var balancer = Compose.Service("lb").Scalar("networks", "edge", "ipv4_address");
        var subnet = Compose.Root.Map("networks", "edge", "ipam").List("config").Select(c => c.Scalar("subnet")).Single();

        Assert.NotNull(balancer);
        Assert.True(IPNetwork.Parse(subnet!).Contains(IPAddress.Parse(balancer)), $"{balancer} is outside the edge network {subnet}");
        Assert.All(Compose.GatewayServices, g =>
        {
            var trusted = Compose.Environment(g).Where(e => e.Key.StartsWith("ClientIp__TrustedProxies__", StringComparison.Ordinal)).Select(e => e.Value);
            Assert.Equal([$"{balancer}/32"], trusted);
        });
    }

    [Fact]
    public void Haproxy_BalancesOverEveryGatewayAndChecksTheirReadiness()
    {
        var lb = Compose.Service("lb");
        var mount = lb.List("volumes").OfType<string>().Single(v => v.Contains("haproxy.cfg", StringComparison.Ordinal)).Split(':')[0];
        var config = File.ReadAllText(Path.Combine(DeployTree.Docker, mount));
        var adminPort = new Uri(GatewayImage.Environment["Admin__Urls"].Replace("+", "0.0.0.0", StringComparison.Ordinal)).Port;
        var publicPort = new Uri(GatewayImage.Environment["ASPNETCORE_URLS"].Replace("+", "0.0.0.0", StringComparison.Ordinal)).Port;

        var servers = Regex.Matches(config, @"^\s*server\s+(\S+)\s+(\S+?):(\d+)", RegexOptions.Multiline)
            .Select(m => (Host: m.Groups[2].Value, Port: int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture)))
            .ToList();
        Assert.Equal(Compose.GatewayServices.Order(), servers.Select(s => s.Host).Order());
        Assert.All(servers, s => Assert.Equal(publicPort, s.Port));
        Assert.Matches($@"(?m)^\s*default-server\s.*\bcheck port {adminPort}\b", config);
        Assert.Matches(@"(?m)^\s*http-check send meth GET uri /health/ready\b", config);
        // The client's address travels in X-Forwarded-For, which only HTTP mode can add.
        Assert.Matches(@"(?m)^\s*mode http\s*$", config);
        Assert.Matches(@"(?m)^\s*option forwardfor\b", config);
    }

    [Fact]
    public void Migration_RunsBeforeTheConsumerWithTheConsumersImage()
    {
        var consumer = Compose.Service("audit-consumer");
        var migrate = Compose.Service("migrate");

        Assert.Equal(consumer.Scalar("image"), migrate.Scalar("image"));
        Assert.Equal(["migrate"], migrate.List("command").OfType<string>());
        Assert.Equal("service_completed_successfully", consumer.Scalar("depends_on", "migrate", "condition"));
        Assert.Equal(Compose.Environment("audit-consumer")["ConnectionStrings__AuditDb"], Compose.Environment("migrate")["ConnectionStrings__AuditDb"]);
    }

    private static IEnumerable<(string Source, string Target)> Volumes(string service)
        => Compose.Service(service).List("volumes").OfType<string>()
            .Select(v => v.Split(':'))
            .Select(p => (p[0], p[1]));
}
