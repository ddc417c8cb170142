namespace MdvGateway.Gateway.Admin;

/// <summary>
/// <c>MdvGateway.Gateway hash-key &lt;key&gt;</c> prints the value to put into <c>Admin:ApiKeys:n:Sha256</c>.
/// <c>hash-key -</c> reads the key from standard input, which keeps it out of shell history and <c>ps</c>.
/// </summary>
internal static class HashKeyCommand
{
    public const string Verb = "hash-key";

    /// <summary>Shorter keys are hashed but warned about: a key is only as strong as its randomness.</summary>
    public const int RecommendedMinimumLength = 32;

    public static bool Matches(string[] args) => args.Length > 0 && args[0] == Verb;

    /// <returns>0 with the hash on <paramref name="output"/>; 2 with a usage message on <paramref name="error"/>.</returns>
    public static int Run(string[] args, TextReader input, TextWriter output, TextWriter error)
    {
        if (args.Length != 2 || args[1].Length == 0)
        {
            error.WriteLine($"usage: MdvGateway.Gateway {Verb} <key>");
            error.WriteLine($"       MdvGateway.Gateway {Verb} -      (reads the key from standard input)");
            error.WriteLine("Prints the lowercase hex SHA-256 of the key, for Admin:ApiKeys:<n>:Sha256.");
            return 2;
        }

        var key = args[1] == "-" ? input.ReadLine() ?? string.Empty : args[1];
        if (key.Length == 0)
        {
            error.WriteLine($"{Verb}: the key is empty");
            return 2;
        }

        if (key.Trim().Length != key.Length)
        {
            // The admin API trims what it receives, so such a key could never match.
            error.WriteLine($"{Verb}: the key starts or ends with whitespace; generate one with: openssl rand -base64 32");
            return 2;
        }

        if (key.Length < RecommendedMinimumLength)
        {
            error.WriteLine($"{Verb}: warning: the key has {key.Length} characters; use at least {RecommendedMinimumLength} random ones (openssl rand -base64 32)");
        }

        output.WriteLine(ApiKeyHash.Compute(key));
        return 0;
    }
}
