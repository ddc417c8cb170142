using System.Diagnostics;
using System.Globalization;
using System.Net;
using MdvGateway.Gateway.Admin;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// The real gateway host, started with the Kubernetes configuration (ConfigMap, environment, secrets) on loopback:
/// every probe path of the Deployment is served by the admin listener and by no public route, and the image's
/// HEALTHCHECK command tells ready from not ready. Redis is pointed at a closed port, so the ban list never loads and
/// the node stays not ready, which is exactly what the probes must see.
/// </summary>
public sealed class DeployedGatewayHostTests : IAsyncLifetime
{
    private readonly string _spool = Directory.CreateTempSubdirectory("mdv-deploy-test-").FullName;
    private WebApplication? _app;

    private string PublicAddress => _app!.Urls.First();

    private string AdminAddress => _app!.Services.GetRequiredService<AdminListener>().Addresses.First();

    public async Task InitializeAsync()
    {
        var deployment = KubernetesBase.Instance;
        var environment = deployment.Environment(deployment.Gateway.Container("gateway"));
        _app = GatewayApplication.Build([], builder =>
        {
            builder.Configuration.Sources.Clear();
            builder.Configuration.AddConfiguration(DeployedConfiguration.Builder(deployment.GatewayConfigFile, environment).Build());
            // Only what a test machine needs changed: loopback listeners on free ports, no Redis, no broker.
            builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["urls"] = "http://127.0.0.1:0",
                ["Admin:Urls"] = "http://127.0.0.1:0",
                ["Redis:Configuration"] = "127.0.0.1:1,connectTimeout=250",
                ["Audit:Enabled"] = "false",
                ["Audit:SpoolDirectory"] = _spool,
            });
        });
        await _app.StartAsync();
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        Directory.Delete(_spool, recursive: true);
    }

    [Fact]
    public async Task ProbePaths_AreServedByTheAdminListener_AndByNoPublicRoute()
    {
        var container = KubernetesBase.Instance.Gateway.Container("gateway");
        var paths = new[] { "startupProbe", "readinessProbe", "livenessProbe" }
            .Select(p => container.Scalar(p, "httpGet", "path"))
            .OfType<string>()
            .Distinct()
            .ToList();
        using var admin = new HttpClient { BaseAddress = new Uri(AdminAddress) };
        using var publicClient = new HttpClient { BaseAddress = new Uri(PublicAddress) };

        Assert.Contains("/health/ready", paths);
        foreach (var path in paths)
        {
            using var onAdmin = await admin.GetAsync(path);
            using var onPublic = await publicClient.GetAsync(path);

            Assert.True(onAdmin.StatusCode is HttpStatusCode.OK or HttpStatusCode.ServiceUnavailable, $"{path} on the admin listener: {(int)onAdmin.StatusCode}");
            Assert.Equal("application/json", onAdmin.Content.Headers.ContentType?.MediaType);
            Assert.Equal(HttpStatusCode.NotFound, onPublic.StatusCode);
        }
    }

    [Fact]
    public async Task Readiness_BeforeTheBanListLoads_IsServiceUnavailable_WhileLivenessIsOk()
    {
        using var admin = new HttpClient { BaseAddress = new Uri(AdminAddress) };

        using var ready = await admin.GetAsync("/health/ready");
        using var live = await admin.GetAsync("/health/live");

        // A node that cannot enforce bans must get no traffic, and must not be restarted for it either.
        Assert.Equal(HttpStatusCode.ServiceUnavailable, ready.StatusCode);
        Assert.Equal(HttpStatusCode.OK, live.StatusCode);
    }

    [Fact]
    public async Task ImageHealthCheck_PassesOnOkAndFailsOnServiceUnavailable()
    {
        var command = Dockerfile.Load(DeployTree.GatewayDockerfile).ExecForm("HEALTHCHECK", after: "CMD").ToArray();
        var port = new Uri(AdminAddress).Port.ToString(CultureInfo.InvariantCulture);
        command[^1] = command[^1].Replace("/dev/tcp/127.0.0.1/8081", "/dev/tcp/127.0.0.1/" + port, StringComparison.Ordinal);
        var againstLiveness = command.ToArray();
        againstLiveness[^1] = againstLiveness[^1].Replace("/health/ready", "/health/live", StringComparison.Ordinal);

        Assert.Equal(0, await RunAsync(againstLiveness));
        Assert.NotEqual(0, await RunAsync(command));
    }

    private static async Task<int> RunAsync(string[] command)
    {
        var start = new ProcessStartInfo(command[0]) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in command.Skip(1))
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{command[0]} did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode;
    }
}
