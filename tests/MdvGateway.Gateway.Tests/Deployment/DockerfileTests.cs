using System.Text.RegularExpressions;
using System.Xml.Linq;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>What the two images will be: non-root, the right ports, a health check on the admin side, buildable sources.</summary>
public sealed class DockerfileTests
{
    /// <summary>Each Dockerfile, the project it publishes, the ports it exposes and the port its HEALTHCHECK calls.</summary>
    private static readonly Dictionary<string, (string Project, int[] Ports, int HealthPort)> Expected = new(StringComparer.Ordinal)
    {
        ["deploy/docker/gateway/Dockerfile"] = ("gateway/MdvGateway.Gateway/MdvGateway.Gateway.csproj", [8080, 8081], 8081),
        ["deploy/docker/audit-consumer/Dockerfile"] = ("audit-consumer/MdvGateway.AuditConsumer/MdvGateway.AuditConsumer.csproj", [8082], 8082),
    };

    public static TheoryData<string> Images() => [.. Expected.Keys];

    [Fact]
    public void DockerDirectory_HasNoDockerfileWithoutExpectations()
    {
        var dockerfiles = Directory.EnumerateFiles(DeployTree.Docker, "Dockerfile", SearchOption.AllDirectories).Select(DeployTree.Relative);

        Assert.Equal(Expected.Keys.Order(), dockerfiles.Order());
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_RunsAsNonRootUser(string file)
    {
        var user = Dockerfile.Load(Full(file)).FinalStage.LastOrDefault(i => i.Keyword == "USER");

        Assert.NotNull(user);
        var name = user.Arguments.Split(':')[0];
        Assert.NotEqual("root", name);
        Assert.NotEqual("0", name);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_ExposesItsPortsAndListensOnThem(string file)
    {
        var dockerfile = Dockerfile.Load(Full(file));

        var ports = Expected[file].Ports;
        Assert.Equal(ports.Order(), dockerfile.ExposedPorts.Order());
        var listening = dockerfile.Environment
            .Where(e => e.Key is "ASPNETCORE_URLS" or "URLS" or "Admin__Urls")
            .Select(e => UrlPort(e.Value))
            .Order();
        Assert.Equal(ports.Order(), listening);
        // The base images' own default (ASPNETCORE_HTTP_PORTS=8080) must not compete with the URLs above.
        Assert.Equal(string.Empty, dockerfile.Environment.GetValueOrDefault("ASPNETCORE_HTTP_PORTS", "unset"));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_HealthCheckCallsReadinessOnItsHealthPort(string file)
    {
        var command = Dockerfile.Load(Full(file)).ExecForm("HEALTHCHECK", after: "CMD");

        var healthPort = Expected[file].HealthPort;
        Assert.Equal("bash", command[0]);
        Assert.Contains($"/dev/tcp/127.0.0.1/{healthPort}", command[^1], StringComparison.Ordinal);
        Assert.Contains("GET /health/ready ", command[^1], StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_EntryPointRunsTheAssemblyOfThePublishedProject(string file)
    {
        var dockerfile = Dockerfile.Load(Full(file));

        var project = Expected[file].Project;
        var publish = Assert.Single(dockerfile.Instructions, i => i.Keyword == "RUN" && i.Arguments.Contains("dotnet publish", StringComparison.Ordinal));
        Assert.Contains(project, publish.Arguments, StringComparison.Ordinal);
        Assert.DoesNotContain("<AssemblyName>", File.ReadAllText(Full(project)), StringComparison.Ordinal);
        Assert.Equal(["dotnet", Path.GetFileNameWithoutExtension(project) + ".dll"], dockerfile.ExecForm("ENTRYPOINT"));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_CopiesOnlySourcesThatExist(string file)
    {
        var copies = Dockerfile.Load(Full(file)).Instructions
            .Where(i => i.Keyword is "COPY" or "ADD" && !i.Arguments.Contains("--from=", StringComparison.Ordinal))
            .ToList();

        Assert.NotEmpty(copies);
        foreach (var copy in copies)
        {
            var words = copy.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).Where(w => !w.StartsWith("--", StringComparison.Ordinal)).ToList();
            // The build context is the repository root.
            Assert.All(words[..^1], source => Assert.True(File.Exists(Full(source)) || Directory.Exists(Full(source)), $"{file}: COPY {source} does not exist"));
        }
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_CopiesEveryReferencedProjectFileBeforeRestoring(string file)
    {
        var instructions = Dockerfile.Load(Full(file)).Instructions;
        var restore = instructions.Select((i, n) => (i, n)).First(x => x.i.Keyword == "RUN" && x.i.Arguments.Contains("dotnet restore", StringComparison.Ordinal)).n;
        var copiedBeforeRestore = instructions.Take(restore)
            .Where(i => i.Keyword == "COPY" && !i.Arguments.Contains("--from=", StringComparison.Ordinal))
            .SelectMany(i => i.Arguments.Split(' ', StringSplitOptions.RemoveEmptyEntries).SkipLast(1))
            .ToHashSet(StringComparer.Ordinal);

        // A project reference added later must join the restore layer, or the image stops building.
        Assert.All(ProjectClosure(Expected[file].Project), project => Assert.Contains(project, copiedBeforeRestore));
    }

    [Theory]
    [MemberData(nameof(Images))]
    public void Image_HasADockerignoreThatKeepsLocalStateAndBuildOutputOut(string file)
    {
        var ignore = Full(file) + ".dockerignore";

        Assert.True(File.Exists(ignore), $"{file}.dockerignore is missing");
        var patterns = File.ReadAllLines(ignore).Select(l => l.Trim()).ToHashSet(StringComparer.Ordinal);
        Assert.Contains(".local/", patterns);
        Assert.Contains("**/bin/", patterns);
        Assert.Contains("**/obj/", patterns);
    }

    [Fact]
    public void GatewayImage_ReadsConfigurationFromAMountableDirectoryAndSpoolsOutsideIt()
    {
        var environment = Dockerfile.Load(DeployTree.GatewayDockerfile).Environment;

        Assert.Equal("/etc/mdvgateway", environment["ASPNETCORE_CONTENTROOT"]);
        Assert.Equal("true", environment["DOTNET_USE_POLLING_FILE_WATCHER"]);
        Assert.StartsWith("/var/lib/", environment["Audit__SpoolDirectory"], StringComparison.Ordinal);
    }

    [Fact]
    public void KubernetesAndCompose_UseTheImagesLayout()
    {
        var image = Dockerfile.Load(DeployTree.GatewayDockerfile).Environment;
        var kubernetes = KubernetesBase.Instance.Environment(KubernetesBase.Instance.Gateway.Container("gateway")).ToDictionary(e => e.Key, e => e.Value);

        foreach (var name in new[] { "ASPNETCORE_URLS", "Admin__Urls", "ASPNETCORE_CONTENTROOT", "Audit__SpoolDirectory", "DOTNET_USE_POLLING_FILE_WATCHER" })
        {
            Assert.Equal(image[name], kubernetes[name]);
        }

        var user = Dockerfile.Load(DeployTree.GatewayDockerfile).FinalStage.Last(i => i.Keyword == "USER").Arguments.Split(':')[0];
        Assert.Equal(user, KubernetesBase.Instance.Gateway.PodSpec.Scalar("securityContext", "runAsUser"));
    }

    private static string Full(string relative) => Path.Combine(DeployTree.RepositoryRoot, relative);

    /// <summary>A project and every project it references, transitively, as repository-relative paths.</summary>
    private static SortedSet<string> ProjectClosure(string project)
    {
        var found = new SortedSet<string>(StringComparer.Ordinal);
        var pending = new Stack<string>([project]);
        while (pending.TryPop(out var current))
        {
            if (!found.Add(current))
            {
                continue;
            }

            var directory = Path.GetDirectoryName(Full(current))!;
            foreach (var reference in XDocument.Load(Full(current)).Descendants("ProjectReference"))
            {
                var path = Path.GetFullPath(Path.Combine(directory, reference.Attribute("Include")!.Value.Replace('\\', '/')));
                pending.Push(DeployTree.Relative(path));
            }
        }

        return found;
    }

    private static int UrlPort(string url)
        => int.Parse(Regex.Match(url, @":(\d+)/?$").Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
}
