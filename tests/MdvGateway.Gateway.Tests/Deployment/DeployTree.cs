using MdvGateway.Gateway.Tests.Configuration;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>Where the deployment files live in the repository, and the paths the tests read.</summary>
internal static class DeployTree
{
    public static string RepositoryRoot { get; } = TestConfiguration.RepositoryRoot();

    public static string Deploy { get; } = Path.Combine(RepositoryRoot, "deploy");

    public static string Docker { get; } = Path.Combine(Deploy, "docker");

    public static string KubernetesBase { get; } = Path.Combine(Deploy, "kubernetes", "base");

    public static string GatewayDockerfile { get; } = Path.Combine(Docker, "gateway", "Dockerfile");

    public static string ConsumerDockerfile { get; } = Path.Combine(Docker, "audit-consumer", "Dockerfile");

    public static string ComposeFile { get; } = Path.Combine(Docker, "compose.yaml");

    /// <summary>A path relative to the repository root, with <c>/</c> separators (as the files write them).</summary>
    public static string Relative(string path) => Path.GetRelativePath(RepositoryRoot, path).Replace('\\', '/');

    /// <summary>Every file under <c>deploy/</c> whose name ends with one of <paramref name="extensions"/>.</summary>
    public static IReadOnlyList<string> Files(params string[] extensions)
        => Directory.EnumerateFiles(Deploy, "*", SearchOption.AllDirectories)
            .Where(f => extensions.Any(e => f.EndsWith(e, StringComparison.OrdinalIgnoreCase)))
            .Order(StringComparer.Ordinal)
            .ToList();
}
