namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The count of failed admin authentications that every gateway node shares (Redis in production). A window opens at
/// an address's first counted failure (or first check) and lasts the configured window; once its failures reach the
/// limit, the address is locked out until the window ends.
/// </summary>
internal interface IFailedAuthenticationStore
{
    /// <summary>Counts one failure of <paramref name="client"/>, unless it is already locked out.</summary>
    Task<FailureVerdict> RecordFailureAsync(string client, int limit, TimeSpan window);

    /// <summary>How long <paramref name="client"/> is locked out, or null; counts nothing.</summary>
    Task<TimeSpan?> LockedOutForAsync(string client, int limit, TimeSpan window);
}
