namespace MdvGateway.Gateway.IpBans;

/// <summary>Bans, strikes and offense levels, shared by every gateway node. Implementations throw when the store is away.</summary>
internal interface IBanStore
{
    /// <summary>Stores a ban and tells every node. With <paramref name="keepLonger"/>, an existing longer ban wins.</summary>
    /// <returns>Whether the ban was written.</returns>
    Task<bool> UpsertAsync(Ban ban, bool keepLonger);

    /// <summary>
    /// Replaces a ban that still stands and tells every node; false, writing nothing, when it was lifted or expired in
    /// the meantime (a change never brings a lifted ban back).
    /// </summary>
    Task<bool> ReplaceAsync(Ban ban);

    /// <summary>
    /// Moves when the client's offense level is forgotten to <c>ForgetOffensesAfter</c> after <paramref name="banEnd"/>
    /// (kept while the ban is permanent: null). Nothing happens for a client without a level.
    /// </summary>
    Task RescheduleOffensesAsync(string clientKey, DateTimeOffset? banEnd);

    /// <summary>Lifts a ban and tells every node; false if there was none.</summary>
    Task<bool> RemoveAsync(string target);

    /// <summary>
    /// Forgets a client's strikes and, with <paramref name="resetLevel"/>, its offense level; without it, the level is
    /// forgotten <c>ForgetOffensesAfter</c> from now (its ban has just been lifted).
    /// </summary>
    Task ClearOffensesAsync(string clientKey, bool resetLevel);

    /// <summary>Every ban that has not expired, by the store's clock.</summary>
    Task<IReadOnlyList<Ban>> GetActiveAsync();

    Task<Ban?> GetAsync(string target);

    /// <summary>Clients with strikes in their window or an offense level, most recently active first.</summary>
    Task<IReadOnlyList<Offender>> GetOffendersAsync(int top);

    /// <summary>The store's current time, so that bans are dated by one clock whichever node writes them.</summary>
    Task<DateTimeOffset> GetTimeAsync();
}

/// <summary>What a strike needs to know about the ladder.</summary>
internal sealed record StrikePolicy(int StrikesBeforeBan, TimeSpan StrikeWindow, IReadOnlyList<TimeSpan> BanDurations, TimeSpan ForgetOffensesAfter);

/// <summary>A client the security team may want to watch.</summary>
internal sealed record Offender(string Client, int Strikes, int Level, DateTimeOffset LastStrikeAt);
