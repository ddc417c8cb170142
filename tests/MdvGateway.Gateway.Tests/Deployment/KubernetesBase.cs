using System.Text;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>The kustomize base, read the way kustomize reads it: the files its kustomization lists.</summary>
internal sealed class KubernetesBase
{
    private KubernetesBase(Dictionary<string, object?> kustomization, IReadOnlyList<KubernetesObject> objects)
    {
        Kustomization = kustomization;
        Objects = objects;
    }

    public static KubernetesBase Instance { get; } = Load();

    public Dictionary<string, object?> Kustomization { get; }

    /// <summary>Every object of the listed resource files (generated ConfigMaps are not among them).</summary>
    public IReadOnlyList<KubernetesObject> Objects { get; }

    public IEnumerable<string> ResourceFiles
        => Kustomization.List("resources").OfType<string>().Select(r => Path.GetFullPath(Path.Combine(DeployTree.KubernetesBase, r)));

    public KubernetesObject Get(string kind, string name)
        => Objects.SingleOrDefault(o => o.Kind == kind && o.Name == name)
           ?? throw new InvalidOperationException($"{kind}/{name} is not in the base");

    public IEnumerable<KubernetesObject> OfKind(params string[] kinds) => Objects.Where(o => kinds.Contains(o.Kind));

    public KubernetesObject Gateway => Get("Deployment", "mdv-gateway");

    public KubernetesObject Consumer => Get("Deployment", "mdv-audit-consumer");

    /// <summary>The value of one key of a Secret of the base (<c>stringData</c>, else base64 <c>data</c>), or null.</summary>
    public string? SecretValue(string secretName, string key)
    {
        var secret = Objects.SingleOrDefault(o => o.Kind == "Secret" && o.Name == secretName);
        if (secret is null)
        {
            return null;
        }

        if (secret.Root.Scalar("stringData", key) is { } plain)
        {
            return plain;
        }

        return secret.Root.Scalar("data", key) is { } encoded ? Encoding.UTF8.GetString(Convert.FromBase64String(encoded)) : null;
    }

    /// <summary>
    /// A container's environment as the process sees it: literal values as written, secret references resolved from
    /// the base's Secrets (null when the Secret or key is missing).
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string?>> Environment(Dictionary<string, object?> container)
        => container.List("env").OfType<Dictionary<string, object?>>()
            .Select(e => new KeyValuePair<string, string?>(
                e.Scalar("name") ?? string.Empty,
                e.MapOrNull("valueFrom", "secretKeyRef") is { } secretRef
                    ? SecretValue(secretRef.Scalar("name") ?? string.Empty, secretRef.Scalar("key") ?? string.Empty)
                    : e.Scalar("value")))
            .ToList();

    /// <summary>The gateway's appsettings.json, the file the kustomization turns into the ConfigMap.</summary>
    public string GatewayConfigFile
    {
        get
        {
            var generator = Kustomization.List("configMapGenerator").OfType<Dictionary<string, object?>>()
                .Single(g => g.Scalar("name") == "mdv-gateway-config");
            var file = generator.List("files").OfType<string>().Single();
            return Path.GetFullPath(Path.Combine(DeployTree.KubernetesBase, file));
        }
    }

    private static KubernetesBase Load()
    {
        var kustomization = Yaml.LoadAllFromFile(Path.Combine(DeployTree.KubernetesBase, "kustomization.yaml")).Single().Map();
        var objects = new List<KubernetesObject>();
        foreach (var resource in kustomization.List("resources").OfType<string>())
        {
            var file = Path.Combine(DeployTree.KubernetesBase, resource);
            foreach (var document in Yaml.LoadAllFromFile(file).OfType<Dictionary<string, object?>>())
            {
                objects.Add(new KubernetesObject(
                    document.Scalar("kind") ?? string.Empty,
                    document.Scalar("metadata", "name") ?? string.Empty,
                    document,
                    DeployTree.Relative(file)));
            }
        }

        return new KubernetesBase(kustomization, objects);
    }
}
