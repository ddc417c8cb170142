using System.Diagnostics;
using System.Globalization;

namespace MdvGateway.Gateway.FunctionalTests.Infrastructure;

/// <summary>
/// POSIX signals to a child process through <c>kill(1)</c>. <see cref="Process.Kill()"/> only ever sends SIGKILL;
/// tests of graceful shutdown need SIGTERM, and tests of a hung server SIGSTOP / SIGCONT.
/// </summary>
public static class ProcessSignals
{
    /// <param name="processId">The process to signal.</param>
    /// <param name="signal">The signal's name without <c>SIG</c>: <c>TERM</c>, <c>STOP</c>, <c>CONT</c>.</param>
    public static async Task SendAsync(int processId, string signal)
    {
        var start = new ProcessStartInfo("kill") { RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add("-" + signal);
        start.ArgumentList.Add(processId.ToString(CultureInfo.InvariantCulture));
        using var kill = Process.Start(start)!;
        var stderr = await kill.StandardError.ReadToEndAsync();
        await kill.WaitForExitAsync();
        Assert.True(kill.ExitCode == 0, $"kill -{signal} {processId} exited {kill.ExitCode}: {stderr}");
    }
}
