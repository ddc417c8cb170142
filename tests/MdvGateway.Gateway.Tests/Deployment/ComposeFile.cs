using System.Text.RegularExpressions;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// deploy/docker/compose.yaml with its variables interpolated the way Compose does (<c>${VAR:-default}</c>,
/// <c>${VAR:?error}</c>, <c>$$</c>), from the values a user would put into <c>.env</c>.
/// </summary>
internal sealed partial class ComposeFile
{
    /// <summary>What <c>.env</c> must provide (the file requires them); everything else keeps its default.</summary>
    public static readonly IReadOnlyDictionary<string, string> RequiredVariables = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["MDV_REDIS_PASSWORD"] = "redis-test-password",
        ["MDV_RABBITMQ_PASSWORD"] = "rabbitmq-test-password",
        ["MDV_PG_PASSWORD"] = "postgres-test-password",
        ["MDV_ADMIN_KEY_SHA256"] = new string('a', 64),
    };

    private ComposeFile(Dictionary<string, object?> root, IReadOnlyList<string> missingVariables)
    {
        Root = root;
        MissingVariables = missingVariables;
    }

    public static ComposeFile Instance { get; } = Load(RequiredVariables);

    public Dictionary<string, object?> Root { get; }

    /// <summary>Variables the file requires (<c>${VAR:?…}</c>) that the given values did not provide.</summary>
    public IReadOnlyList<string> MissingVariables { get; }

    public Dictionary<string, object?> Services => Root.Map("services");

    public Dictionary<string, object?> Service(string name) => Services.Map(name);

    /// <summary>Services built from (or running the image of) the gateway's Dockerfile.</summary>
    public IReadOnlyList<string> GatewayServices
        => Services.Where(s => BuildsDockerfile(s.Value, DeployTree.GatewayDockerfile)).Select(s => s.Key).ToList();

    /// <summary>The environment of a service, as a map (Compose accepts a map or a list of KEY=VALUE).</summary>
    public IReadOnlyDictionary<string, string> Environment(string service)
    {
        var node = Service(service).At("environment");
        return node switch
        {
            Dictionary<string, object?> map => map.ToDictionary(kv => kv.Key, kv => kv.Value as string ?? string.Empty, StringComparer.Ordinal),
            List<object?> list => list.OfType<string>().Select(e => e.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : string.Empty, StringComparer.Ordinal),
            _ => new Dictionary<string, string>(),
        };
    }

    /// <summary>The Dockerfile a service's build uses, as a full path, or null when it builds nothing.</summary>
    public static string? DockerfileOf(object? service)
    {
        if (service.MapOrNull("build") is not { } build)
        {
            return null;
        }

        var context = Path.GetFullPath(Path.Combine(DeployTree.Docker, build.Scalar("context") ?? "."));
        return Path.GetFullPath(Path.Combine(context, build.Scalar("dockerfile") ?? "Dockerfile"));
    }

    public static ComposeFile Load(IReadOnlyDictionary<string, string> variables)
    {
        var missing = new List<string>();
        var text = Interpolate(File.ReadAllText(DeployTree.ComposeFile), variables, missing);
        return new ComposeFile(Yaml.LoadAll(text).Single().Map(), missing);
    }

    private static bool BuildsDockerfile(object? service, string dockerfile)
        => string.Equals(DockerfileOf(service), dockerfile, StringComparison.Ordinal);

    private static string Interpolate(string text, IReadOnlyDictionary<string, string> variables, List<string> missing)
        => Variable().Replace(text, match =>
        {
            if (match.Value == "$$")
            {
                return "$";
            }

            var name = match.Groups["name"].Value;
            var operation = match.Groups["op"].Value;
            var argument = match.Groups["arg"].Value;
            if (variables.TryGetValue(name, out var value) && (value.Length > 0 || operation is "" or "-" or "?"))
            {
                return value;
            }

            switch (operation)
            {
                case ":-" or "-":
                    return argument;
                case ":?" or "?":
                    missing.Add(name);
                    return string.Empty;
                default:
                    return string.Empty;
            }
        });

    [GeneratedRegex(@"\$\$|\$\{(?<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?<op>:?[-?])(?<arg>[^}]*))?\}")]
    private static partial Regex Variable();
}
