namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// The base rendered by kustomize itself (<c>kubectl kustomize</c>, offline): what a cluster would receive, including
/// the generated ConfigMap.
/// </summary>
public sealed class KustomizeRenderTests
{
    [KubectlFact]
    public async Task Base_Renders_IntoTheObjectsOfTheDeployment()
    {
        var rendered = await RenderAsync();

        var kinds = rendered.GroupBy(o => o.Scalar("kind")!).ToDictionary(g => g.Key, g => g.Count());
        Assert.Equal(2, kinds["Deployment"]);
        Assert.Equal(1, kinds["Job"]);
        Assert.Equal(1, kinds["PodDisruptionBudget"]);
        Assert.Equal(2, kinds["NetworkPolicy"]);
        Assert.Equal(1, kinds["ConfigMap"]);
        Assert.True(kinds["Service"] >= 3);
        Assert.All(rendered, o => Assert.Equal("mdvgateway", o.Scalar("metadata", "labels", "app.kubernetes.io/part-of")));
    }

    [KubectlFact]
    public async Task RenderedConfigMap_KeepsItsNameAndCarriesTheCheckedAppsettings()
    {
        var rendered = await RenderAsync();
        var configMap = Assert.Single(rendered, o => o.Scalar("kind") == "ConfigMap");
        var gateway = Assert.Single(rendered, o => o.Scalar("kind") == "Deployment" && o.Scalar("metadata", "name") == "mdv-gateway");

        // The Deployment must mount this very ConfigMap: a hash suffix would turn every edit into a rollout.
        var mounted = gateway.List("spec", "template", "spec", "volumes").Select(v => v.Scalar("configMap", "name")).OfType<string>();
        Assert.Contains(configMap.Scalar("metadata", "name"), mounted);
        Assert.Equal(
            File.ReadAllText(KubernetesBase.Instance.GatewayConfigFile).ReplaceLineEndings("\n").TrimEnd(),
            configMap.Scalar("data", "appsettings.json")?.ReplaceLineEndings("\n").TrimEnd());
    }

    [KubectlFact]
    public async Task RenderedImages_ArePinned()
    {
        var rendered = await RenderAsync();
        var images = rendered.Where(o => o.Scalar("kind") is "Deployment" or "Job")
            .SelectMany(o => o.List("spec", "template", "spec", "containers"))
            .Select(c => c.Scalar("image"))
            .ToList();

        Assert.Equal(3, images.Count);
        Assert.All(images, i => Assert.True(ImageReference.Parse(i!).IsPinned, $"{i} is not pinned"));
    }

    private static async Task<IReadOnlyList<Dictionary<string, object?>>> RenderAsync()
        => Yaml.LoadAll(await Kubectl.RunAsync("kustomize", DeployTree.KubernetesBase)).OfType<Dictionary<string, object?>>().ToList();
}
