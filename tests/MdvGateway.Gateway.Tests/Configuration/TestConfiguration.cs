using System.Text;
using Microsoft.Extensions.Configuration;

namespace MdvGateway.Gateway.Tests.Configuration;

/// <summary>A small valid configuration to which each test adds the one thing it is about.</summary>
internal static class TestConfiguration
{
    public static Dictionary<string, string?> Valid() => new(StringComparer.OrdinalIgnoreCase)
    {
        ["ReverseProxy:Routes:api:ClusterId"] = "app",
        ["ReverseProxy:Routes:api:RateLimiterPolicy"] = "per-ip",
        ["ReverseProxy:Routes:login:ClusterId"] = "app",
        ["ReverseProxy:Routes:login:RateLimiterPolicy"] = "auth",
        ["ReverseProxy:Clusters:app:Destinations:d1:Address"] = "http://127.0.0.1:5080/",
        ["Redis:Configuration"] = "127.0.0.1:6379",
        ["Redis:KeyPrefix"] = "mdv",
        ["RateLimiting:DefaultPolicy"] = "per-ip",
        ["RateLimiting:Policies:per-ip:PermitLimit"] = "100",
        ["RateLimiting:Policies:per-ip:Window"] = "00:00:01",
        ["RateLimiting:Policies:auth:PermitLimit"] = "5",
        ["RateLimiting:Policies:auth:Window"] = "00:01:00",
        ["Admin:Urls"] = "http://127.0.0.1:8081",
    };

    public static IConfiguration Build(IDictionary<string, string?> values)
        => new ConfigurationBuilder().AddInMemoryCollection(values).Build();

    /// <summary>The valid configuration with some keys added or replaced (a null value removes the key).</summary>
    public static IConfiguration With(params (string Key, string? Value)[] changes)
    {
        var values = Valid();
        foreach (var (key, value) in changes)
        {
            if (value is null)
            {
                values.Remove(key);
            }
            else
            {
                values[key] = value;
            }
        }

        return Build(values);
    }

    public static IConfiguration FromJson(string json)
        => new ConfigurationBuilder().AddJsonStream(new MemoryStream(Encoding.UTF8.GetBytes(json))).Build();

    /// <summary>The repository root, found by walking up from the test binaries to <c>MdvGateway.sln</c>.</summary>
    public static string RepositoryRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "MdvGateway.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"MdvGateway.sln not found above {AppContext.BaseDirectory}");
    }
}
