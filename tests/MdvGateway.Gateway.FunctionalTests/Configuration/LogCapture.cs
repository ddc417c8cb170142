namespace MdvGateway.Gateway.FunctionalTests.Configuration;

/// <summary>
/// Tests that read what a gateway logs run alone. Serilog's host integration logs through the process-wide
/// <c>Log.Logger</c> (the admin listener relies on it), so the last gateway started in a process receives every
/// gateway's lines, and the first one stopped silences the others: two gateways logging at once in one test process
/// would read each other's lines.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class LogCapture
{
    public const string Name = "Log capture";
}
