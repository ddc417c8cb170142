namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>
/// The command line of the <c>migrate</c> verb: its own options, and configuration overrides passed on to the
/// configuration system (<c>--ConnectionStrings:AuditDb=…</c>, <c>--Urls …</c>).
/// </summary>
internal sealed record MigrateArguments(string? To, string? From, bool Script, bool List, bool Help, IReadOnlyList<string> ConfigurationArgs)
{
    public const string Verb = "migrate";

    public const string Usage = """
        Usage: dotnet MdvGateway.AuditConsumer.dll migrate [--to <migration>|0] [--list]
               dotnet MdvGateway.AuditConsumer.dll migrate --script [--from <migration>|0] [--to <migration>]

          (no option)          apply every pending migration
          --to <migration>     apply or roll back until <migration> (its name or full id) is the last one applied
          --to 0               roll every migration back (drops audit_logs and all its partitions)
          --list               show each migration and whether it is applied
          --script             print the SQL instead of running it; touches no database. Default: from an empty
                               database to the latest migration. With --from A --to B it is the SQL from A to B,
                               which is a rollback script when B is older than A
        Configuration overrides work as for the service: --ConnectionStrings:AuditDb "Host=…;Database=…"
        Exit codes: 0 done, 1 the database failed or refused, 2 bad command line or configuration.
        """;

    /// <summary>Configuration roots the verb accepts as overrides; anything else is a typo of one of its options, and a
    /// typo must never turn a rollback into a migration.</summary>
    private static readonly string[] ConfigurationRoots =
        ["ConnectionStrings", "Urls", "RabbitMq", "Audit", "Serilog", "Logging", "Environment", "ContentRoot", "ApplicationName"];

    public static bool IsInvoked(IReadOnlyList<string> args)
        => args.Count > 0 && string.Equals(args[0], Verb, StringComparison.OrdinalIgnoreCase);

    /// <summary>Parses everything after the verb.</summary>
    public static MigrateArguments? TryParse(IReadOnlyList<string> args, out string? error)
    {
        error = null;
        string? to = null, from = null;
        bool script = false, list = false, help = false;
        var configuration = new List<string>();
        for (var i = IsInvoked(args) ? 1 : 0; i < args.Count; i++)
        {
            var arg = args[i];
            var (name, inlineValue) = Split(arg);
            switch (name?.ToUpperInvariant())
            {
                case "--TO" or "--FROM":
                    var value = inlineValue ?? (i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal) ? args[++i] : null);
                    if (string.IsNullOrWhiteSpace(value))
                    {
                        error = $"{name} needs a migration name, or 0";
                        return null;
                    }

                    if (name!.Equals("--to", StringComparison.OrdinalIgnoreCase))
                    {
                        to = value;
                    }
                    else
                    {
                        from = value;
                    }

                    break;
                case "--SCRIPT" when inlineValue is null:
                    script = true;
                    break;
                case "--LIST" when inlineValue is null:
                    list = true;
                    break;
                case "--HELP" or "-H" or "-?" when inlineValue is null:
                    help = true;
                    break;
                default:
                    if (name is null || !name.StartsWith("--", StringComparison.Ordinal) || !IsConfigurationKey(name[2..]))
                    {
                        error = $"unknown option '{arg}'";
                        return null;
                    }

                    configuration.Add(arg);
                    if (inlineValue is null && i + 1 < args.Count && !args[i + 1].StartsWith("--", StringComparison.Ordinal))
                    {
                        configuration.Add(args[++i]);
                    }

                    break;
            }
        }

        if (from is not null && !script)
        {
            error = "--from is only meaningful with --script";
            return null;
        }

        if (list && (script || to is not null))
        {
            error = "--list cannot be combined with --script or --to";
            return null;
        }

        return new MigrateArguments(to, from, script, list, help, configuration);
    }

    private static (string? Name, string? Value) Split(string arg)
    {
        if (!arg.StartsWith('-'))
        {
            return (null, null);
        }

        var equals = arg.IndexOf('=', StringComparison.Ordinal);
        return equals < 0 ? (arg, null) : (arg[..equals], arg[(equals + 1)..]);
    }

    private static bool IsConfigurationKey(string key)
    {
        var root = key.Split(':', 2)[0].Split("__", 2)[0];
        return key.Length > 0 && ConfigurationRoots.Any(r => string.Equals(r, root, StringComparison.OrdinalIgnoreCase));
    }
}
