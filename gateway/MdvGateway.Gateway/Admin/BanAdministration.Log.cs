namespace MdvGateway.Gateway.Admin;

internal sealed partial class BanAdministration
{
    private static partial class Log
    {
        [LoggerMessage(EventId = 5020, Level = LogLevel.Information, Message = "Admin {Actor} banned {Target} until {ExpiresAt} (empty: permanent; allowlist overridden: {OverrideAllowlist})")]
        public static partial void Banned(ILogger logger, string actor, string target, DateTimeOffset? expiresAt, bool overrideAllowlist);

        [LoggerMessage(EventId = 5021, Level = LogLevel.Information, Message = "Admin {Actor} changed the end of the ban on {Target} from {PreviousExpiresAt} to {ExpiresAt} (empty: permanent)")]
        public static partial void Changed(ILogger logger, string actor, string target, DateTimeOffset? previousExpiresAt, DateTimeOffset? expiresAt);

        [LoggerMessage(EventId = 5022, Level = LogLevel.Information, Message = "Admin {Actor} lifted the ban on {Target} (offense level reset: {ResetLevel})")]
        public static partial void Lifted(ILogger logger, string actor, string target, bool resetLevel);

        [LoggerMessage(EventId = 5023, Level = LogLevel.Information, Message = "Admin {Actor} imported {Accepted} bans ({Unchanged} already banned longer, {Rejected} lines rejected, allowlist overridden: {OverrideAllowlist})")]
        public static partial void Imported(ILogger logger, string actor, int accepted, int unchanged, int rejected, bool overrideAllowlist);

        [LoggerMessage(EventId = 5025, Level = LogLevel.Warning, Message = "The ban on {Target} was changed, but its client's offense level still expires on the old schedule: Redis unavailable ({ErrorType})")]
        public static partial void OffensesNotRescheduled(ILogger logger, string target, string errorType);

        [LoggerMessage(EventId = 5024, Level = LogLevel.Error, Message = "Admin {Actor}'s import stopped after {Written} of {Total} bans: Redis unavailable ({ErrorType})")]
        public static partial void ImportInterrupted(ILogger logger, string actor, int written, int total, string errorType);
    }
}
