using System.Text.Json;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>Every structured file under deploy/ parses, and every image it names is pinned and registry-neutral.</summary>
public sealed class DeployFilesTests
{
    public static TheoryData<string> YamlFiles() => [.. DeployTree.Files(".yaml", ".yml").Select(DeployTree.Relative)];

    public static TheoryData<string> JsonFiles() => [.. DeployTree.Files(".json").Select(DeployTree.Relative)];

    [Fact]
    public void DeployDirectory_HasDockerAndKubernetesFiles()
    {
        var files = DeployTree.Files(".yaml", ".yml", ".json").Select(DeployTree.Relative).ToList();

        Assert.Contains("deploy/docker/compose.yaml", files);
        Assert.Contains("deploy/kubernetes/base/kustomization.yaml", files);
        Assert.Contains("deploy/kubernetes/base/gateway/appsettings.json", files);
        Assert.Contains("deploy/docker/config/gateway/appsettings.json", files);
    }

    [Theory]
    [MemberData(nameof(YamlFiles))]
    public void YamlFile_Parses_IntoNonEmptyDocuments(string file)
    {
        var documents = Yaml.LoadAllFromFile(Path.Combine(DeployTree.RepositoryRoot, file));

        Assert.NotEmpty(documents);
        Assert.All(documents, d => Assert.IsType<Dictionary<string, object?>>(d));
    }

    [Theory]
    [MemberData(nameof(JsonFiles))]
    public void JsonFile_Parses_AsStrictJson(string file)
    {
        // Strict (no comments, no trailing commas) so any tool, not only .NET's lenient reader, can edit it.
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(DeployTree.RepositoryRoot, file)));

        Assert.Equal(JsonValueKind.Object, document.RootElement.ValueKind);
    }

    [Fact]
    public void KubernetesImages_ArePinnedAndNameNoRegistry()
    {
        var images = KubernetesBase.Instance.OfKind("Deployment", "Job")
            .SelectMany(o => o.Containers.Select(c => (Owner: o.ToString(), Image: c.Scalar("image") ?? string.Empty)))
            .ToList();

        Assert.NotEmpty(images);
        Assert.All(images, i => AssertPinnedAndNeutral(i.Image, i.Owner));
    }

    [Fact]
    public void KustomizationImageOverrides_AreNotLatest()
    {
        var overrides = KubernetesBase.Instance.Kustomization.List("images").OfType<Dictionary<string, object?>>().ToList();

        Assert.NotEmpty(overrides);
        Assert.All(overrides, o => Assert.False(string.IsNullOrEmpty(o.Scalar("newTag")) || o.Scalar("newTag") == "latest", $"{o.Scalar("name")}: newTag must be a version"));
    }

    [Fact]
    public void ComposeImages_ArePinnedAndNameNoRegistry()
    {
        var images = ComposeFile.Instance.Services
            .Select(s => (Service: s.Key, Image: s.Value.Scalar("image")))
            .Where(s => s.Image is not null)
            .ToList();

        Assert.NotEmpty(images);
        Assert.All(images, i => AssertPinnedAndNeutral(i.Image!, $"compose service {i.Service}"));
    }

    [Fact]
    public void DockerfileBaseImageDefaults_ArePinnedAndNameNoRegistry()
    {
        foreach (var path in new[] { DeployTree.GatewayDockerfile, DeployTree.ConsumerDockerfile })
        {
            var dockerfile = Dockerfile.Load(path);
            var froms = dockerfile.Instructions.Where(i => i.Keyword == "FROM").ToList();
            Assert.NotEmpty(froms);
            foreach (var from in froms)
            {
                // FROM ${ARG} AS stage: the image comes from a global ARG so users can point it at their registry.
                var image = from.Arguments.Split(' ')[0];
                Assert.Matches(@"^\$\{?[A-Z_]+\}?$", image);
                var name = image.Trim('$', '{', '}');
                Assert.True(dockerfile.GlobalArguments.TryGetValue(name, out var fallback) && fallback is not null, $"{DeployTree.Relative(path)}: ARG {name} needs a default");
                AssertPinnedAndNeutral(fallback!, $"{DeployTree.Relative(path)} ARG {name}");
            }
        }
    }

    private static void AssertPinnedAndNeutral(string image, string where)
    {
        var reference = ImageReference.Parse(image);
        Assert.True(reference.IsPinned, $"{where}: image '{image}' must carry a version tag (not latest)");
        Assert.True(reference.Host is null, $"{where}: image '{image}' names the registry '{reference.Host}'; deployments set registries, the files do not");
    }
}
