namespace MdvGateway.Gateway.Configuration;

/// <summary>
/// The settings that hold secrets, so that no message about configuration (start-up error, refused reload, audit
/// event) ever repeats one: admin key hashes (a hash is one offline guess away from a weak key), broker and Redis
/// passwords, whole connection strings.
/// </summary>
internal static class SecretSettings
{
    /// <summary>Replaces a secret wherever it appears in a message.</summary>
    public const string Mask = "***";

    // Secrets shorter than this are not searched for in messages: masking every "abc" would garble them, and a secret
    // that short is not one.
    private const int ShortestMasked = 4;

    private static readonly string[] SecretSections = ["Admin:ApiKeys", "Audit:RabbitMq", "Redis:Configuration"];

    private static readonly string[] SecretKeys = ["Password", "Pwd", "Sha256", "Secret", "Token", "ApiKey", "ConnectionString"];

    /// <summary>Whether the setting at <paramref name="path"/> itself holds a secret (a password, a key hash, Redis's string).</summary>
    public static bool HoldsSecret(string path)
    {
        var last = path[(path.LastIndexOf(':') + 1)..];
        return path.Equals("Redis:Configuration", StringComparison.OrdinalIgnoreCase)
               || SecretKeys.Any(key => last.Contains(key, StringComparison.OrdinalIgnoreCase));
    }

    /// <summary>
    /// Whether the setting at <paramref name="path"/> holds a secret, or is (within) a section that does: a value found
    /// there where an object or list belongs may be a secret pasted one level too high.
    /// </summary>
    public static bool IsSecret(string path)
    {
        foreach (var section in SecretSections)
        {
            if (path.Equals(section, StringComparison.OrdinalIgnoreCase)
                || path.StartsWith(section + ":", StringComparison.OrdinalIgnoreCase)
                || section.StartsWith(path + ":", StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return HoldsSecret(path);
    }

    /// <summary>The secret values configured now: passwords and hashes, and the <c>password=</c> of Redis's string.</summary>
    public static HashSet<string> Values(IConfiguration configuration)
    {
        var values = new HashSet<string>(StringComparer.Ordinal);
        foreach (var (key, value) in configuration.AsEnumerable())
        {
            if (string.IsNullOrEmpty(value) || !HoldsSecret(key))
            {
                continue;
            }

            if (key.Equals("Redis:Configuration", StringComparison.OrdinalIgnoreCase))
            {
                // Endpoints and options are not secret (and are needed to read a message); the password is.
                foreach (var part in value.Split(','))
                {
                    var option = part.Trim();
                    if (option.StartsWith("password=", StringComparison.OrdinalIgnoreCase))
                    {
                        Add(option["password=".Length..]);
                    }
                }

                continue;
            }

            Add(value);
        }

        return values;

        void Add(string secret)
        {
            if (secret.Length >= ShortestMasked)
            {
                values.Add(secret);
            }
        }
    }

    /// <summary><paramref name="message"/> with every one of <paramref name="secrets"/> replaced by <see cref="Mask"/>.</summary>
    public static string Redact(string message, IEnumerable<string> secrets)
    {
        foreach (var secret in secrets.OrderByDescending(s => s.Length))
        {
            message = message.Replace(secret, Mask, StringComparison.OrdinalIgnoreCase);
        }

        return message;
    }
}
