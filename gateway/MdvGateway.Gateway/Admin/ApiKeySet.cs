using System.Security.Cryptography;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The configured keys, decoded once per configuration. A presented key is hashed and compared with every
/// configured hash in constant time, all of them every time, so neither timing nor the position of a match tells
/// an attacker anything about the hashes.
/// </summary>
internal sealed class ApiKeySet
{
    private readonly (byte[] Hash, AdminCaller Caller)[] _keys;

    private ApiKeySet((byte[] Hash, AdminCaller Caller)[] keys) => _keys = keys;

    public int Count => _keys.Length;

    /// <summary>Builds the set from validated options (entries that are not well-formed are skipped).</summary>
    public static ApiKeySet Create(IEnumerable<AdminApiKeyOptions> keys)
        => new([.. keys
            .Where(k => ApiKeyHash.IsWellFormed(k.Sha256))
            .Select(k => (Convert.FromHexString(k.Sha256), new AdminCaller(k.Name, [.. k.Roles.Distinct(StringComparer.Ordinal)])))]);

    /// <summary>The holder of <paramref name="presentedKey"/>, or null when it matches no configured key.</summary>
    public AdminCaller? Verify(ReadOnlySpan<char> presentedKey)
    {
        Span<byte> presented = stackalloc byte[SHA256.HashSizeInBytes];
        ApiKeyHash.Compute(presentedKey, presented);
        AdminCaller? match = null;
        foreach (var (hash, caller) in _keys)
        {
            // No early exit: every configured hash is compared whatever the outcome of the previous ones.
            var equal = CryptographicOperations.FixedTimeEquals(presented, hash);
            match = equal && match is null ? caller : match;
        }

        return match;
    }
}
