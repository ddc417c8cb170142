namespace MdvGateway.Gateway.FunctionalTests.Resilience;

/// <summary>
/// Tests that kill servers under load and time every request. They run alone (no other test class in parallel), so a
/// busy neighbour cannot turn a generous latency bound into a flake, and so their load does not slow anyone else.
/// </summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ResilienceTests
{
    public const string Name = "Resilience";
}
