namespace MdvGateway.Gateway.Admin;

/// <summary>What counting one failed admin authentication found.</summary>
/// <param name="Counted">
/// False when the address was already locked out (by failures counted on any node): the attempt is refused with 429
/// and is not a guess, so it is not counted.
/// </param>
/// <param name="LockedFor">How long the address is locked out now; null while it may still try.</param>
internal readonly record struct FailureVerdict(bool Counted, TimeSpan? LockedFor);
