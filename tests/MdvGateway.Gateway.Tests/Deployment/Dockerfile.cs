using System.Text;
using System.Text.Json;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// A Dockerfile read as its instructions (continuation lines joined, comments dropped), enough to check what the
/// image will be without a Docker engine.
/// </summary>
internal sealed class Dockerfile
{
    private Dockerfile(string path, IReadOnlyList<DockerInstruction> instructions)
    {
        Path = path;
        Instructions = instructions;
    }

    public string Path { get; }

    public IReadOnlyList<DockerInstruction> Instructions { get; }

    /// <summary><c>ARG</c>s before the first <c>FROM</c>, with their defaults (the only ones <c>FROM</c> may use).</summary>
    public IReadOnlyDictionary<string, string?> GlobalArguments
        => Instructions.TakeWhile(i => i.Keyword != "FROM").Where(i => i.Keyword == "ARG")
            .Select(i => i.Arguments.Split('=', 2))
            .ToDictionary(p => p[0].Trim(), p => p.Length > 1 ? p[1].Trim() : null, StringComparer.Ordinal);

    /// <summary>The instructions of the last stage, the one that becomes the image.</summary>
    public IReadOnlyList<DockerInstruction> FinalStage
        => Instructions.Skip(Instructions.Select((i, n) => (i, n)).Last(x => x.i.Keyword == "FROM").n).ToList();

    /// <summary>The image's environment: every <c>ENV key=value</c> of the final stage.</summary>
    public IReadOnlyDictionary<string, string> Environment
    {
        get
        {
            var environment = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var instruction in FinalStage.Where(i => i.Keyword == "ENV"))
            {
                foreach (var pair in instruction.Arguments.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
                {
                    var parts = pair.Split('=', 2);
                    environment[parts[0]] = parts.Length > 1 ? parts[1] : string.Empty;
                }
            }

            return environment;
        }
    }

    public IReadOnlySet<int> ExposedPorts
        => FinalStage.Where(i => i.Keyword == "EXPOSE")
            .SelectMany(i => i.Arguments.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries))
            .Select(p => int.Parse(p.Split('/')[0], System.Globalization.CultureInfo.InvariantCulture))
            .ToHashSet();

    /// <summary>The words of an exec-form (JSON array) instruction of the final stage, e.g. <c>ENTRYPOINT</c>.</summary>
    public IReadOnlyList<string> ExecForm(string keyword, string? after = null)
    {
        var instruction = FinalStage.Last(i => i.Keyword == keyword);
        var json = instruction.Arguments;
        if (after is not null)
        {
            json = json[(json.IndexOf(after, StringComparison.Ordinal) + after.Length)..];
        }

        return JsonSerializer.Deserialize<string[]>(json.Trim()) ?? [];
    }

    public static Dockerfile Load(string path)
    {
        var instructions = new List<DockerInstruction>();
        var pending = new StringBuilder();
        foreach (var raw in File.ReadLines(path))
        {
            var line = raw.Trim();
            if (line.StartsWith('#') || (line.Length == 0 && pending.Length == 0))
            {
                continue;
            }

            var continues = line.EndsWith('\\');
            pending.Append(continues ? line[..^1] : line).Append(' ');
            if (continues)
            {
                continue;
            }

            var text = pending.ToString().Trim();
            pending.Clear();
            if (text.Length == 0)
            {
                continue;
            }

            var space = text.IndexOf(' ', StringComparison.Ordinal);
            instructions.Add(space < 0
                ? new DockerInstruction(text.ToUpperInvariant(), string.Empty)
                : new DockerInstruction(text[..space].ToUpperInvariant(), text[(space + 1)..].Trim()));
        }

        return new Dockerfile(path, instructions);
    }
}
