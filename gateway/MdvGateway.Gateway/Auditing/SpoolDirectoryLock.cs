using System.Globalization;
using MdvGateway.Gateway.Configuration;

namespace MdvGateway.Gateway.Auditing;

/// <summary>
/// Proof that this process owns a spool directory: <c>.lock</c> inside it, opened exclusively and kept open until
/// disposed (an advisory <c>flock</c> on Linux, released by the kernel if the process dies). Two gateways appending
/// to and replaying the same files would publish events twice and delete each other's segments.
/// </summary>
internal sealed class SpoolDirectoryLock : IDisposable
{
    public const string FileName = ".lock";

    private readonly FileStream _stream;

    private SpoolDirectoryLock(string directory, FileStream stream)
    {
        Directory = directory;
        _stream = stream;
    }

    /// <summary>The spool directory, absolute.</summary>
    public string Directory { get; }

    /// <summary>Creates the directory if needed and locks it.</summary>
    /// <exception cref="GatewayConfigurationException">Another process holds the directory, or it cannot be created or locked.</exception>
    public static SpoolDirectoryLock Acquire(string directory)
    {
        const string key = $"{AuditOptions.SectionName}:SpoolDirectory";
        try
        {
            System.IO.Directory.CreateDirectory(directory);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new GatewayConfigurationException([$"{key}: cannot create '{directory}': {ex.Message}"]);
        }

        var path = Path.Combine(directory, FileName);
        FileStream stream;
        try
        {
            stream = new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            throw new GatewayConfigurationException(
                [$"{key}: '{directory}' is in use by another gateway process (it holds the lock file '{path}'); give every gateway process its own spool directory"]);
        }
        catch (UnauthorizedAccessException ex)
        {
            throw new GatewayConfigurationException([$"{key}: cannot open the lock file '{path}': {ex.Message}"]);
        }

        try
        {
            // For an operator wondering who holds it; the lock, not this text, is what counts.
            var owner = string.Create(CultureInfo.InvariantCulture, $"pid {Environment.ProcessId} on {Environment.MachineName}\n");
            stream.SetLength(0);
            stream.Write(System.Text.Encoding.UTF8.GetBytes(owner));
            stream.Flush();
        }
        catch (IOException)
        {
            // Informational only.
        }

        return new SpoolDirectoryLock(directory, stream);
    }

    public void Dispose() => _stream.Dispose();
}
