using MdvGateway.Gateway.ClientIdentity;

namespace MdvGateway.Gateway.IpBans;

internal static class IpBanOptionsValidator
{
    public static void Validate(IpBanOptions options, ICollection<string> problems)
    {
        const string s = IpBanOptions.SectionName;
        if (options.StrikesBeforeBan is < 1 or > 100_000)
        {
            problems.Add($"{s}:StrikesBeforeBan: {options.StrikesBeforeBan} must be between 1 and 100000");
        }

        if (options.StrikeWindow < TimeSpan.FromSeconds(1) || options.StrikeWindow > TimeSpan.FromDays(7))
        {
            problems.Add($"{s}:StrikeWindow: {options.StrikeWindow} must be between 00:00:01 and 7.00:00:00");
        }

        for (var i = 0; i < options.BanDurations.Count; i++)
        {
            if (options.BanDurations[i] < TimeSpan.FromSeconds(1) || options.BanDurations[i] > TimeSpan.FromDays(3650))
            {
                problems.Add($"{s}:BanDurations:{i}: {options.BanDurations[i]} must be between 00:00:01 and 3650.00:00:00");
            }
        }

        if (options.ForgetOffensesAfter < TimeSpan.FromSeconds(1) || options.ForgetOffensesAfter > TimeSpan.FromDays(3650))
        {
            problems.Add($"{s}:ForgetOffensesAfter: {options.ForgetOffensesAfter} must be between 00:00:01 and 3650.00:00:00");
        }

        for (var i = 0; i < options.Allowlist.Count; i++)
        {
            if (!NetworkList.TryParseNetwork(options.Allowlist[i], out _, out var error))
            {
                problems.Add($"{s}:Allowlist:{i}: {error}");
            }
        }

        if (options.StatusCode is < 400 or > 499)
        {
            problems.Add($"{s}:StatusCode: {options.StatusCode} must be a 4xx status (403 or 429 are usual)");
        }
    }
}
