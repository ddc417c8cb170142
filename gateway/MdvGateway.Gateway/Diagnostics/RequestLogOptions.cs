namespace MdvGateway.Gateway.Diagnostics;

/// <summary>
/// The <c>RequestLog</c> section: how refused and unrouted requests reach the log. Admitted requests keep their one line
/// each (the Serilog request log, silenced or kept by the <c>Serilog</c> section); refusals are counted per client and
/// reason and summarised once per <see cref="RefusalSummaryInterval"/>, so a flood cannot grow the log with its size.
/// Read once at start.
/// </summary>
public sealed class RequestLogOptions
{
    public const string SectionName = "RequestLog";

    /// <summary>How often the counted refusals are written (default 10 s).</summary>
    public TimeSpan RefusalSummaryInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The most clients named one by one per summary, those with the most refusals first (default 20).</summary>
    public int RefusalSummaryClients { get; set; } = 20;

    /// <summary>
    /// The most distinct clients counted one by one per interval (default 10,000); refusals of further clients are
    /// still counted exactly, per reason, without their address.
    /// </summary>
    public int RefusalTrackedClients { get; set; } = 10_000;

    /// <summary>
    /// <c>true</c> writes a refused request's own request-log line as well, at Information (for debugging a client;
    /// default <c>false</c>: refusals are only summarised).
    /// </summary>
    public bool LogRefusedRequests { get; set; }
}

internal static class RequestLogOptionsValidator
{
    private static readonly TimeSpan Shortest = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Longest = TimeSpan.FromHours(1);

    public static void Validate(RequestLogOptions options, ICollection<string> problems)
    {
        const string s = RequestLogOptions.SectionName;
        if (options.RefusalSummaryInterval < Shortest || options.RefusalSummaryInterval > Longest)
        {
            problems.Add($"{s}:RefusalSummaryInterval: {options.RefusalSummaryInterval} must be between {Shortest} and {Longest}");
        }

        if (options.RefusalSummaryClients is < 0 or > 1000)
        {
            problems.Add($"{s}:RefusalSummaryClients: {options.RefusalSummaryClients} must be between 0 and 1000");
        }

        if (options.RefusalTrackedClients is < 1 or > 1_000_000)
        {
            problems.Add($"{s}:RefusalTrackedClients: {options.RefusalTrackedClients} must be between 1 and 1000000");
        }
        else if (options.RefusalTrackedClients < options.RefusalSummaryClients)
        {
            problems.Add($"{s}:RefusalTrackedClients: {options.RefusalTrackedClients} must be at least RefusalSummaryClients ({options.RefusalSummaryClients})");
        }
    }
}
