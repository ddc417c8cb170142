namespace MdvGateway.Gateway.Admin;

internal static class AdminOptionsValidator
{
    private const int MaxNameLength = 64;

    public static void Validate(AdminOptions options, ICollection<string> problems)
    {
        const string s = AdminOptions.SectionName;
        foreach (var url in SplitUrls(options.Urls))
        {
            // Kestrel's wildcard hosts (http://*:8081, http://+:8081) are valid binding addresses but not URIs.
            var checkable = url.Replace("://*:", "://0.0.0.0:", StringComparison.Ordinal).Replace("://+:", "://0.0.0.0:", StringComparison.Ordinal);
            if (!Uri.TryCreate(checkable, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps) || uri.AbsolutePath != "/")
            {
                problems.Add($"{s}:Urls: '{url}' is not an http(s)://host:port URL");
            }
        }

        var names = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var hashes = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        for (var i = 0; i < options.ApiKeys.Count; i++)
        {
            var key = options.ApiKeys[i];
            var path = $"{s}:ApiKeys:{i}";
            if (key is null)
            {
                problems.Add($"{path}: an empty entry is not a key");
                continue;
            }

            if (string.IsNullOrWhiteSpace(key.Name))
            {
                problems.Add($"{path}:Name: a name is required (it is recorded as the author of every change made with the key)");
            }
            else if (key.Name.Length > MaxNameLength || !key.Name.All(IsNameChar))
            {
                problems.Add($"{path}:Name: '{key.Name}' must be 1 to {MaxNameLength} letters, digits or . _ - @ :");
            }
            else if (!names.TryAdd(key.Name, i))
            {
                problems.Add($"{path}:Name: '{key.Name}' is already the name of {s}:ApiKeys:{names[key.Name]}");
            }

            // The value is never echoed: a hash in a log is one step from an offline guess at a weak key.
            if (!ApiKeyHash.IsWellFormed(key.Sha256))
            {
                problems.Add($"{path}:Sha256: must be the 64 hexadecimal characters printed by 'hash-key <key>' (found {key.Sha256?.Length ?? 0} characters{(key.Sha256 is { Length: 64 } ? " that are not all hexadecimal" : string.Empty)})");
            }
            else if (!hashes.TryAdd(key.Sha256, i))
            {
                problems.Add($"{path}:Sha256: the same key as {s}:ApiKeys:{hashes[key.Sha256]}; give each holder a key of its own");
            }

            if (key.Roles.Count == 0)
            {
                problems.Add($"{path}:Roles: at least one of {string.Join(", ", AdminRoles.All)} is required");
            }

            for (var r = 0; r < key.Roles.Count; r++)
            {
                if (!AdminRoles.IsKnown(key.Roles[r]))
                {
                    problems.Add($"{path}:Roles:{r}: '{key.Roles[r]}' is not a role (known roles: {string.Join(", ", AdminRoles.All)})");
                }
            }
        }

        if (options.AuthFailureLimit is < 1 or > 10_000)
        {
            problems.Add($"{s}:AuthFailureLimit: {options.AuthFailureLimit} must be between 1 and 10000");
        }

        if (options.AuthFailureWindow < TimeSpan.FromSeconds(1) || options.AuthFailureWindow > TimeSpan.FromDays(1))
        {
            problems.Add($"{s}:AuthFailureWindow: {options.AuthFailureWindow} must be between 00:00:01 and 1.00:00:00");
        }
    }

    public static string[] SplitUrls(string? urls)
        => (urls ?? string.Empty).Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    private static bool IsNameChar(char c) => char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-' or '@' or ':';
}
