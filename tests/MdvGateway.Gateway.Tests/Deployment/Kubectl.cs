using System.Diagnostics;

namespace MdvGateway.Gateway.Tests.Deployment;

/// <summary>The kubectl client on PATH, used only for what it does offline (<c>kubectl kustomize</c>).</summary>
internal static class Kubectl
{
    /// <summary>The full path of kubectl, or null when it is not installed.</summary>
    public static string? Path { get; } = Find();

    /// <summary>Runs kubectl and returns its standard output; throws with its standard error when it fails.</summary>
    public static async Task<string> RunAsync(params string[] arguments)
    {
        var start = new ProcessStartInfo(Path ?? throw new InvalidOperationException("kubectl is not on PATH"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }

        using var process = Process.Start(start) ?? throw new InvalidOperationException("kubectl did not start");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var error = process.StandardError.ReadToEndAsync(timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return process.ExitCode == 0
            ? await output
            : throw new InvalidOperationException($"kubectl {string.Join(' ', arguments)} exited with {process.ExitCode}: {await error}");
    }

    private static string? Find()
        => (Environment.GetEnvironmentVariable("PATH") ?? string.Empty)
            .Split(System.IO.Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries)
            .Select(directory => System.IO.Path.Combine(directory, "kubectl"))
            .FirstOrDefault(File.Exists);
}
