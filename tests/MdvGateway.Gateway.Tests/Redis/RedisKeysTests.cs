using System.Security.Cryptography;
using System.Text;
using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.Tests.Redis;

public sealed class RedisKeysTests
{
    [Fact]
    public void RateLimitPartition_StartsWithPrefixAndPolicy()
    {
        Assert.Equal("mdv:auth:auth:203.0.113.5", RedisKeys.RateLimitPartition("mdv", "auth", "auth", "203.0.113.5"));
    }

    [Fact]
    public void RateLimitPartition_IPv6ClientKey_ContainsNoBraces()
    {
        var partition = RedisKeys.RateLimitPartition("mdv", "api", "api-1s", "2001:db8:1:2::/64");

        Assert.Equal("mdv:api:api-1s:2001:db8:1:2::/64", partition);
        Assert.DoesNotContain('{', partition);
        Assert.DoesNotContain('}', partition);
    }

    [Fact]
    public void RateLimitPartition_DifferentPoliciesOrLimits_Differ()
    {
        var auth = RedisKeys.RateLimitPartition("mdv", "auth", "auth", "203.0.113.5");
        var api = RedisKeys.RateLimitPartition("mdv", "api", "api", "203.0.113.5");
        var hourly = RedisKeys.RateLimitPartition("mdv", "api", "api-3600s", "203.0.113.5");
        var otherEnvironment = RedisKeys.RateLimitPartition("staging", "auth", "auth", "203.0.113.5");

        Assert.Equal(4, new HashSet<string>([auth, api, hourly, otherEnvironment]).Count);
    }

    [Fact]
    public void RateLimitWindow_StartsWithPrefix_ThenTheBucketsHashTag()
    {
        var bucket = RedisKeys.Bucket("203.0.113.5");

        Assert.Equal($"mdv:{{b{bucket:d2}}}:w:auth:default:203.0.113.5", RedisKeys.RateLimitWindow("mdv", bucket, "auth", "default", "203.0.113.5"));
    }

    [Fact]
    public void ClientKeys_ShareTheClientsBucket_WithItsWindows()
    {
        // One script call counts a client's window and its strike: on Redis Cluster every key must hash to one slot.
        const string client = "2001:db8:1:2::/64";
        var tag = RedisKeys.BucketTag(RedisKeys.Bucket(client));
        string[] keys =
        [
            RedisKeys.RateLimitWindow("mdv", RedisKeys.Bucket(client), "api", "api-1s", client),
            RedisKeys.Strikes("mdv", client),
            RedisKeys.OffenseLevel("mdv", client),
            RedisKeys.AutoBanned("mdv", client),
            RedisKeys.Offenders("mdv", RedisKeys.Bucket(client)),
        ];

        Assert.All(keys, k => Assert.StartsWith("mdv:" + tag + ":", k, StringComparison.Ordinal));
        Assert.Equal(keys.Length, keys.Distinct().Count());
    }

    [Fact]
    public void Bucket_IsStable_AndSpreadsClientsOverEveryBucket()
    {
        // A fixed value: a bucket that changed between releases would split every client's window in two.
        Assert.Equal(RedisKeys.Bucket("203.0.113.5"), RedisKeys.Bucket(new string("203.0.113.5".ToCharArray())));
        var counts = new int[RedisKeys.SlotBuckets];
        for (var i = 0; i < 16_000; i++)
        {
            counts[RedisKeys.Bucket($"10.{i / 256}.{i % 256}.1")]++;
        }

        Assert.All(counts, c => Assert.InRange(c, 800, 1200));
    }

    [Theory]
    [InlineData("abc", "ba7816bf8f01cfea414140de5dae2223")]
    [InlineData("", "e3b0c44298fc1c149afbf4c8996fb924")]
    public void Digest_KnownInput_IsTruncatedSha256(string input, string expected)
    {
        Assert.Equal(expected, RedisKeys.Digest(input));
    }

    [Theory]
    [InlineData("sk_live_123")]
    [InlineData("{tag}")]
    [InlineData("marché ключ 鍵")]
    public void Digest_AnyInput_Is32LowercaseHexWithoutBraces(string input)
    {
        var digest = RedisKeys.Digest(input);

        Assert.Equal(32, digest.Length);
        Assert.All(digest, c => Assert.True(char.IsAsciiDigit(c) || c is >= 'a' and <= 'f', $"'{c}' is not lowercase hex"));
    }

    [Fact]
    public void Digest_NonAsciiInput_HashesUtf8()
    {
        const string input = "marché ключ 鍵";
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(input))[..16]);

        Assert.Equal(expected, RedisKeys.Digest(input));
    }

    [Fact]
    public void Digest_SameInput_IsStable()
    {
        Assert.Equal(RedisKeys.Digest("sk_live_123"), RedisKeys.Digest(new string("sk_live_123".ToCharArray())));
    }

    [Fact]
    public void Digest_DifferentInputs_Differ()
    {
        Assert.NotEqual(RedisKeys.Digest("sk_live_123"), RedisKeys.Digest("sk_live_124"));
        Assert.NotEqual(RedisKeys.Digest("a"), RedisKeys.Digest("A"));
    }

    [Fact]
    public void Digest_LongInput_DoesNotThrow()
    {
        var input = new string('x', 100_000);
        var expected = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(input))[..16]);

        Assert.Equal(expected, RedisKeys.Digest(input));
    }
}
