namespace MdvGateway.Gateway.Hosting;

internal static class RequestTimeoutsOptionsValidator
{
    private static readonly TimeSpan Shortest = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan Longest = TimeSpan.FromDays(1);

    public static void Validate(RequestTimeoutsOptions options, ICollection<string> problems)
    {
        const string s = RequestTimeoutsOptions.SectionName;
        Check(problems, $"{s}:Default", options.Default);
        foreach (var (name, timeout) in options.Policies)
        {
            if (name.Equals("Disable", StringComparison.OrdinalIgnoreCase) || name.Equals("Default", StringComparison.OrdinalIgnoreCase))
            {
                problems.Add($"{s}:Policies:{name}: '{name}' is reserved (a route's TimeoutPolicy 'Disable' turns the timeout off, 'Default' means {s}:Default)");
                continue;
            }

            Check(problems, $"{s}:Policies:{name}", timeout);
        }
    }

    private static void Check(ICollection<string> problems, string path, TimeSpan value)
    {
        if (value < Shortest || value > Longest)
        {
            problems.Add($"{path}: {value} must be between {Shortest} and {Longest}");
        }
    }
}
