using YamlDotNet.Core;
using YamlDotNet.Core.Events;
using YamlDotNet.Serialization;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>
/// YAML as plain trees: mappings are <see cref="Dictionary{TKey,TValue}"/> with string keys, sequences are lists,
/// scalars are strings. Merge keys (<c>&lt;&lt;: *anchor</c>, as compose files use them) are resolved.
/// </summary>
internal static class Yaml
{
    private static readonly IDeserializer Deserializer = new DeserializerBuilder().Build();

    /// <summary>Every document of a YAML stream; throws <see cref="YamlException"/> on a syntax error.</summary>
    public static IReadOnlyList<object?> LoadAll(string text)
    {
        var parser = new MergingParser(new Parser(new StringReader(text)));
        parser.Consume<StreamStart>();
        var documents = new List<object?>();
        while (parser.Accept<DocumentStart>(out _))
        {
            documents.Add(Normalize(Deserializer.Deserialize(parser)));
        }

        parser.Consume<StreamEnd>();
        return documents;
    }

    public static IReadOnlyList<object?> LoadAllFromFile(string path) => LoadAll(File.ReadAllText(path));

    /// <summary>The node at <paramref name="path"/> (mapping keys, or list indexes as numbers), or null.</summary>
    public static object? At(this object? node, params string[] path)
    {
        foreach (var segment in path)
        {
            node = node switch
            {
                Dictionary<string, object?> map => map.GetValueOrDefault(segment),
                List<object?> list when int.TryParse(segment, out var i) && i >= 0 && i < list.Count => list[i],
                _ => null,
            };
        }

        return node;
    }

    public static Dictionary<string, object?> Map(this object? node, params string[] path)
        => node.At(path) as Dictionary<string, object?> ?? throw new InvalidOperationException($"expected a mapping at '{string.Join('.', path)}'");

    public static Dictionary<string, object?>? MapOrNull(this object? node, params string[] path)
        => node.At(path) as Dictionary<string, object?>;

    /// <summary>The list at <paramref name="path"/>, or an empty list when there is none.</summary>
    public static List<object?> List(this object? node, params string[] path)
        => node.At(path) as List<object?> ?? [];

    public static string? Scalar(this object? node, params string[] path) => node.At(path) as string;

    private static object? Normalize(object? node) => node switch
    {
        IDictionary<object, object?> map => map.ToDictionary(kv => kv.Key.ToString() ?? string.Empty, kv => Normalize(kv.Value), StringComparer.Ordinal),
        IList<object?> list => list.Select(Normalize).ToList(),
        _ => node,
    };
}
