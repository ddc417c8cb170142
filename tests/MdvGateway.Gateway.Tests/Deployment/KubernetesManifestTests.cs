using System.Globalization;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>The invariants of deploy/kubernetes/base that keep the gateway available, drained and its admin port private.</summary>
public sealed class KubernetesManifestTests
{
    private const int PublicPort = 8080;
    private const int AdminPort = 8081;

    private static KubernetesBase Base => KubernetesBase.Instance;

    [Fact]
    public void Kustomization_ListsEveryManifestOfTheBase()
    {
        var listed = Base.ResourceFiles.ToHashSet(StringComparer.Ordinal);
        var present = Directory.EnumerateFiles(DeployTree.KubernetesBase, "*.yaml", SearchOption.AllDirectories)
            .Where(f => Path.GetFileName(f) != "kustomization.yaml")
            .ToHashSet(StringComparer.Ordinal);

        Assert.All(listed, f => Assert.True(File.Exists(f), $"kustomization.yaml lists {DeployTree.Relative(f)}, which does not exist"));
        Assert.Empty(present.Except(listed).Select(DeployTree.Relative));
    }

    [Fact]
    public void Objects_HaveApiVersionKindAndName()
    {
        Assert.NotEmpty(Base.Objects);
        Assert.All(Base.Objects, o =>
        {
            Assert.False(string.IsNullOrEmpty(o.Root.Scalar("apiVersion")), $"{o}: apiVersion");
            Assert.False(string.IsNullOrEmpty(o.Kind), $"{o}: kind");
            Assert.False(string.IsNullOrEmpty(o.Name), $"{o}: metadata.name");
        });
    }

    [Fact]
    public void Deployments_ProbeReadinessAndLivenessOnTheirHealthPort()
    {
        var expected = new Dictionary<string, (string Container, int Port)>
        {
            ["mdv-gateway"] = ("gateway", AdminPort),
            ["mdv-audit-consumer"] = ("audit-consumer", 8082),
        };

        var deployments = Base.OfKind("Deployment").ToList();
        Assert.Equal(expected.Keys.Order(), deployments.Select(d => d.Name).Order());
        foreach (var deployment in deployments)
        {
            var (containerName, port) = expected[deployment.Name];
            var container = deployment.Container(containerName);
            Assert.Equal("/health/ready", container.Scalar("readinessProbe", "httpGet", "path"));
            Assert.Equal("/health/live", container.Scalar("livenessProbe", "httpGet", "path"));
            Assert.Equal(port, ProbePort(container, "readinessProbe"));
            Assert.Equal(port, ProbePort(container, "livenessProbe"));
            if (container.At("startupProbe") is not null)
            {
                Assert.Equal(port, ProbePort(container, "startupProbe"));
            }
        }
    }

    [Fact]
    public void ConsumerProbePaths_AreMappedByTheConsumer()
    {
        // The gateway's paths are checked against the running host (DeployedGatewayHostTests); the consumer is not
        // referenced by this project, so its source must map them.
        var source = string.Concat(Directory.EnumerateFiles(Path.Combine(DeployTree.RepositoryRoot, "audit-consumer"), "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal))
            .Select(File.ReadAllText));
        var consumer = Base.Consumer.Container("audit-consumer");

        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
        {
            if (consumer.Scalar(probe, "httpGet", "path") is { } path)
            {
                Assert.Contains($"\"{path}\"", source, StringComparison.Ordinal);
            }
        }
    }

    [Fact]
    public void GatewayDeployment_RunsSeveralReplicasThatNeverAllGoDownTogether()
    {
        var gateway = Base.Gateway;
        var replicas = int.Parse(gateway.Root.Scalar("spec", "replicas") ?? "1", CultureInfo.InvariantCulture);
        Assert.True(replicas >= 2, $"{gateway}: {replicas} replica(s); at least 2 are needed for availability");
        Assert.Equal("0", gateway.Root.Scalar("spec", "strategy", "rollingUpdate", "maxUnavailable"));

        var budget = Assert.Single(Base.OfKind("PodDisruptionBudget"), p => Selects(p.MatchLabels("spec", "selector", "matchLabels"), gateway));
        var maxUnavailable = budget.Root.Scalar("spec", "maxUnavailable");
        var minAvailable = budget.Root.Scalar("spec", "minAvailable");
        Assert.True(
            (maxUnavailable is not null && int.Parse(maxUnavailable, CultureInfo.InvariantCulture) < replicas) ||
            (minAvailable is not null && int.Parse(minAvailable, CultureInfo.InvariantCulture) >= 1),
            $"{budget}: must keep at least one gateway up during voluntary disruptions");
    }

    [Fact]
    public void GatewayDeployment_SpreadsReplicasAcrossNodes()
    {
        var gateway = Base.Gateway;
        var terms = gateway.PodSpec.List("affinity", "podAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution")
            .Select(t => t.MapOrNull("podAffinityTerm"))
            .Concat(gateway.PodSpec.List("affinity", "podAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution").Select(t => t as Dictionary<string, object?>))
            .OfType<Dictionary<string, object?>>();

        Assert.Contains(terms, t => t.Scalar("topologyKey") == "kubernetes.io/hostname" && Selects(ToLabels(t.MapOrNull("labelSelector", "matchLabels")), gateway));
    }

    [Fact]
    public void PublicService_DoesNotExposeTheAdminPort()
    {
        var gateway = Base.Gateway;
        var services = Base.OfKind("Service").Where(s => Selects(s.MatchLabels("spec", "selector"), gateway)).ToList();
        var exposed = services.Where(s => s.Root.Scalar("spec", "type") is "LoadBalancer" or "NodePort").ToList();

        var publicService = Assert.Single(exposed);
        var targets = publicService.Root.List("spec", "ports").Select(p => ResolvePort(gateway.Container("gateway"), p.Scalar("targetPort") ?? p.Scalar("port"))).ToList();
        Assert.Equal([PublicPort], targets);
        Assert.DoesNotContain(publicService.Root.List("spec", "ports"), p => p.Scalar("port") == AdminPort.ToString(CultureInfo.InvariantCulture));
        // Clients' own addresses must reach the gateway: no SNAT by kube-proxy.
        Assert.Equal("Local", publicService.Root.Scalar("spec", "externalTrafficPolicy"));
    }

    [Fact]
    public void AdminService_IsClusterInternal()
    {
        var gateway = Base.Gateway;
        var adminServices = Base.OfKind("Service")
            .Where(s => Selects(s.MatchLabels("spec", "selector"), gateway))
            .Where(s => s.Root.List("spec", "ports").Any(p => ResolvePort(gateway.Container("gateway"), p.Scalar("targetPort") ?? p.Scalar("port")) == AdminPort))
            .ToList();

        var admin = Assert.Single(adminServices);
        Assert.Equal("ClusterIP", admin.Root.Scalar("spec", "type") ?? "ClusterIP");
    }

    [Fact]
    public void GatewayNetworkPolicy_LeavesThePublicPortOpenAndRestrictsTheAdminPort()
    {
        var gateway = Base.Gateway;
        var policy = Assert.Single(Base.OfKind("NetworkPolicy"), p => Selects(p.MatchLabels("spec", "podSelector", "matchLabels"), gateway));
        Assert.Contains("Ingress", policy.Root.List("spec", "policyTypes").OfType<string>());

        var rules = policy.Root.List("spec", "ingress").OfType<Dictionary<string, object?>>().ToList();
        var adminRules = rules.Where(r => Ports(r).Contains(AdminPort)).ToList();
        Assert.NotEmpty(adminRules);
        Assert.All(adminRules, r => Assert.NotEmpty(r.List("from")));
        Assert.Contains(rules, r => Ports(r).Contains(PublicPort) && r.List("from").Count == 0);
        // A rule without ports opens every port, the admin port included.
        Assert.All(rules, r => Assert.NotEmpty(r.List("ports")));
    }

    [Fact]
    public void GatewayDeployment_MountsTheConfigMapAsADirectoryAtTheContentRoot()
    {
        var gateway = Base.Gateway;
        var container = gateway.Container("gateway");
        var environment = Base.Environment(container).ToDictionary(e => e.Key, e => e.Value);

        var configVolume = gateway.PodSpec.List("volumes").OfType<Dictionary<string, object?>>()
            .Single(v => v.Scalar("configMap", "name") == "mdv-gateway-config");
        var mount = container.List("volumeMounts").OfType<Dictionary<string, object?>>()
            .Single(m => m.Scalar("name") == configVolume.Scalar("name"));

        // A subPath mount never receives ConfigMap updates, and the content root is where appsettings.json is read.
        Assert.Null(mount.At("subPath"));
        Assert.Equal(environment["ASPNETCORE_CONTENTROOT"], mount.Scalar("mountPath"));
        // Without polling, the symlink swap that delivers a ConfigMap update goes unnoticed.
        Assert.Equal("true", environment["DOTNET_USE_POLLING_FILE_WATCHER"], ignoreCase: true);

        var generator = Base.Kustomization.List("configMapGenerator").OfType<Dictionary<string, object?>>()
            .Single(g => g.Scalar("name") == "mdv-gateway-config");
        Assert.Equal("true", generator.Scalar("options", "disableNameSuffixHash"));
        Assert.Equal("appsettings.json", Path.GetFileName(Base.GatewayConfigFile));
    }

    [Fact]
    public void GatewayDeployment_GracePeriodCoversPreStopSleepAndDraining()
    {
        var gateway = Base.Gateway;
        var container = gateway.Container("gateway");
        var environment = Base.Environment(container).ToDictionary(e => e.Key, e => e.Value);

        var preStop = container.List("lifecycle", "preStop", "exec", "command").OfType<string>().ToList();
        Assert.Equal("sleep", preStop.FirstOrDefault());
        var sleep = int.Parse(preStop[1], CultureInfo.InvariantCulture);
        var drain = int.Parse(environment["DOTNET_SHUTDOWNTIMEOUTSECONDS"]!, CultureInfo.InvariantCulture);
        var grace = int.Parse(gateway.PodSpec.Scalar("terminationGracePeriodSeconds") ?? "30", CultureInfo.InvariantCulture);

        Assert.True(sleep >= 5, $"preStop sleeps {sleep} s; load balancers need a few seconds to stop sending");
        // After the drain the audit flush has up to two Audit:PublishTimeout of its own (publish, close the bus).
        var flush = 2 * new MdvGateway.Gateway.Auditing.AuditOptions().PublishTimeout.TotalSeconds;
        Assert.True(grace > sleep + drain + flush, $"terminationGracePeriodSeconds {grace} must exceed preStop {sleep} s + drain {drain} s + audit flush {flush} s");
    }

    [Fact]
    public void Workloads_RunAsNonRootOnReadOnlyFilesystemsWithResourceLimits()
    {
        var workloads = Base.OfKind("Deployment", "Job").ToList();
        Assert.Equal(3, workloads.Count);
        foreach (var workload in workloads)
        {
            Assert.Equal("true", workload.PodSpec.Scalar("securityContext", "runAsNonRoot"));
            Assert.NotEqual("0", workload.PodSpec.Scalar("securityContext", "runAsUser"));
            Assert.Equal("false", workload.PodSpec.Scalar("automountServiceAccountToken"));
            foreach (var container in workload.Containers)
            {
                var name = $"{workload}/{container.Scalar("name")}";
                Assert.True(container.Scalar("securityContext", "readOnlyRootFilesystem") == "true", $"{name}: readOnlyRootFilesystem");
                Assert.True(container.Scalar("securityContext", "allowPrivilegeEscalation") == "false", $"{name}: allowPrivilegeEscalation");
                Assert.Contains("ALL", container.List("securityContext", "capabilities", "drop").OfType<string>());
                foreach (var kind in new[] { "requests", "limits" })
                {
                    foreach (var resource in new[] { "cpu", "memory" })
                    {
                        Assert.True(container.Scalar("resources", kind, resource) is { Length: > 0 }, $"{name}: resources.{kind}.{resource}");
                    }
                }

                // A read-only root filesystem still needs a writable /tmp (the runtime's diagnostics socket lives there).
                Assert.Contains(container.List("volumeMounts"), m => m.Scalar("mountPath") == "/tmp");
            }
        }
    }

    [Fact]
    public void SecretReferences_NameSecretsAndKeysOfTheBase()
    {
        var references = Base.OfKind("Deployment", "Job")
            .SelectMany(w => w.Containers.SelectMany(c => c.List("env").OfType<Dictionary<string, object?>>()
                .Select(e => (Owner: w.ToString(), Variable: e.Scalar("name"), Ref: e.MapOrNull("valueFrom", "secretKeyRef")))))
            .Where(r => r.Ref is not null)
            .ToList();

        Assert.NotEmpty(references);
        Assert.All(references, r => Assert.True(
            Base.SecretValue(r.Ref!.Scalar("name") ?? string.Empty, r.Ref.Scalar("key") ?? string.Empty) is not null,
            $"{r.Owner}: {r.Variable} reads {r.Ref.Scalar("name")}/{r.Ref.Scalar("key")}, which the base does not define"));
    }

    [Fact]
    public void EnvironmentVariableNames_UseDoubleUnderscoresNotColons()
    {
        var names = Base.OfKind("Deployment", "Job")
            .SelectMany(w => w.Containers.SelectMany(c => Base.Environment(c).Select(e => e.Key)))
            .ToList();

        Assert.All(names, n => Assert.DoesNotContain(':', n));
        Assert.Contains("Admin__ApiKeys__0__Sha256", names);
        Assert.Contains("Audit__RabbitMq__Password", names);
    }

    [Fact]
    public void MigrationJob_RunsMigrateWithTheConsumersImageAndDatabase()
    {
        var job = Assert.Single(Base.OfKind("Job"));
        var migrate = Assert.Single(job.Containers);
        var consumer = Base.Consumer.Container("audit-consumer");

        Assert.Equal(consumer.Scalar("image"), migrate.Scalar("image"));
        Assert.Equal("migrate", migrate.List("args").OfType<string>().FirstOrDefault() ?? migrate.List("command").OfType<string>().FirstOrDefault());
        Assert.Equal("Never", job.PodSpec.Scalar("restartPolicy"));
        Assert.Equal(SecretReference(consumer, "ConnectionStrings__AuditDb"), SecretReference(migrate, "ConnectionStrings__AuditDb"));
    }

    private static (string? Secret, string? Key) SecretReference(Dictionary<string, object?> container, string variable)
    {
        var reference = container.List("env").OfType<Dictionary<string, object?>>().Single(e => e.Scalar("name") == variable).Map("valueFrom", "secretKeyRef");
        return (reference.Scalar("name"), reference.Scalar("key"));
    }

    private static int ProbePort(Dictionary<string, object?> container, string probe)
        => ResolvePort(container, container.Scalar(probe, "httpGet", "port"));

    /// <summary>A port number, or the number of the container port with that name; -1 when neither.</summary>
    private static int ResolvePort(Dictionary<string, object?> container, string? port)
    {
        if (int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number))
        {
            return number;
        }

        var named = container.List("ports").OfType<Dictionary<string, object?>>().FirstOrDefault(p => p.Scalar("name") == port);
        return named?.Scalar("containerPort") is { } value ? int.Parse(value, CultureInfo.InvariantCulture) : -1;
    }

    private static HashSet<int> Ports(Dictionary<string, object?> rule)
        => rule.List("ports").Select(p => ResolvePort(Base.Gateway.Container("gateway"), p.Scalar("port"))).ToHashSet();

    /// <summary>Whether a selector (non-empty) matches the pod template labels of <paramref name="workload"/>.</summary>
    private static bool Selects(IReadOnlyDictionary<string, string> selector, KubernetesObject workload)
    {
        var labels = workload.MatchLabels("spec", "template", "metadata", "labels");
        return selector.Count > 0 && selector.All(s => labels.TryGetValue(s.Key, out var value) && value == s.Value);
    }

    private static Dictionary<string, string> ToLabels(Dictionary<string, object?>? map)
        => map?.ToDictionary(kv => kv.Key, kv => kv.Value as string ?? string.Empty) ?? [];
}
