using System.Buffers;
using System.Security.Cryptography;
using System.Text;

namespace MdvGateway.Gateway.Admin;

/// <summary>How a key becomes what <c>Admin:ApiKeys</c> stores: SHA-256 of its UTF-8 bytes, as lowercase hex.</summary>
internal static class ApiKeyHash
{
    public static string Compute(string key)
    {
        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        Compute(key, hash);
        return Convert.ToHexStringLower(hash);
    }

    public static void Compute(ReadOnlySpan<char> key, Span<byte> destination)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(key.Length));
        var length = 0;
        try
        {
            length = Encoding.UTF8.GetBytes(key, buffer);
            SHA256.HashData(buffer.AsSpan(0, length), destination);
        }
        finally
        {
            // The key's bytes must not linger in a pooled buffer.
            CryptographicOperations.ZeroMemory(buffer.AsSpan(0, length));
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    public static bool IsWellFormed(string? hex) => hex is { Length: SHA256.HashSizeInBytes * 2 } && hex.All(char.IsAsciiHexDigit);
}
