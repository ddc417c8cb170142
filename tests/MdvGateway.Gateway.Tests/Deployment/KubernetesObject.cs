namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>One Kubernetes object of the base, with the file it came from (for messages).</summary>
internal sealed record KubernetesObject(string Kind, string Name, Dictionary<string, object?> Root, string File)
{
    public override string ToString() => $"{Kind}/{Name} ({File})";

    /// <summary>The pod template's spec of a Deployment or Job.</summary>
    public Dictionary<string, object?> PodSpec => Root.Map("spec", "template", "spec");

    public IEnumerable<Dictionary<string, object?>> Containers
        => PodSpec.List("containers").OfType<Dictionary<string, object?>>();

    public Dictionary<string, object?> Container(string name)
        => Containers.Single(c => c.Scalar("name") == name);

    public IReadOnlyDictionary<string, string> MatchLabels(params string[] selectorPath)
        => Root.MapOrNull(selectorPath)?.ToDictionary(kv => kv.Key, kv => kv.Value as string ?? string.Empty) ?? [];
}
