namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>Where the real services are; <c>make test</c> exports these, the defaults match <c>make services-up</c>.</summary>
internal static class TestEnvironment
{
    public static string Redis => Environment.GetEnvironmentVariable("MDV_TEST_REDIS") is { Length: > 0 } value ? value : "127.0.0.1:6379";

    /// <summary>The repository root, found from the test binaries.</summary>
    public static string RepositoryRoot
    {
        get
        {
            var directory = new DirectoryInfo(AppContext.BaseDirectory);
            while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "MdvGateway.sln")))
            {
                directory = directory.Parent;
            }

            return directory?.FullName ?? throw new InvalidOperationException("MdvGateway.sln not found above " + AppContext.BaseDirectory);
        }
    }

    /// <summary>Release or Debug, whichever these tests were built as.</summary>
    public static string BuildConfiguration
        => new DirectoryInfo(Path.TrimEndingDirectorySeparator(AppContext.BaseDirectory)).Parent?.Name ?? "Release";
}
