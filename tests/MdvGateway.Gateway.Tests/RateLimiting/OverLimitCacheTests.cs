using MdvGateway.Gateway.RateLimiting;
using Microsoft.Extensions.Time.Testing;

namespace MdvGateway.Gateway.Tests.RateLimiting;

public sealed class OverLimitCacheTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2025, 1, 1, 0, 0, 0, TimeSpan.Zero));

    [Fact]
    public void TryGetRetryAfter_UnknownPartition_ReturnsFalse()
    {
        var cache = new OverLimitCache(_time);

        Assert.False(cache.TryGetRetryAfter("mdv:auth:auth:203.0.113.5", out var retryAfter));
        Assert.Equal(TimeSpan.Zero, retryAfter);
    }

    [Fact]
    public void TryGetRetryAfter_BeforeExpiry_RejectsWithRemainingTime()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("p", TimeSpan.FromSeconds(10));

        Assert.True(cache.TryGetRetryAfter("p", out var atOnce));
        Assert.Equal(TimeSpan.FromSeconds(10), atOnce);

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(cache.TryGetRetryAfter("p", out var later));
        Assert.Equal(TimeSpan.FromSeconds(6), later);

        _time.Advance(TimeSpan.FromMilliseconds(5_999));
        Assert.True(cache.TryGetRetryAfter("p", out var last));
        Assert.Equal(TimeSpan.FromMilliseconds(1), last);
    }

    [Fact]
    public void TryGetRetryAfter_AtExpiry_StopsRejectingAndForgets()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("p", TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.False(cache.TryGetRetryAfter("p", out var retryAfter));
        Assert.Equal(TimeSpan.Zero, retryAfter);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void TryGetRetryAfter_OtherPartition_IsNotAffected()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("mdv:auth:auth:203.0.113.5", TimeSpan.FromSeconds(10));

        Assert.False(cache.TryGetRetryAfter("mdv:auth:auth:203.0.113.6", out _));
        Assert.False(cache.TryGetRetryAfter("MDV:AUTH:AUTH:203.0.113.5", out _));
    }

    [Fact]
    public void Add_SamePartitionAgain_ReplacesExpiry()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("p", TimeSpan.FromSeconds(10));

        cache.Add("p", TimeSpan.FromSeconds(2));

        Assert.True(cache.TryGetRetryAfter("p", out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(2), retryAfter);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Add_ZeroRetryAfter_DoesNotReject()
    {
        var cache = new OverLimitCache(_time);

        cache.Add("p", TimeSpan.Zero);

        Assert.False(cache.TryGetRetryAfter("p", out _));
    }

    [Fact]
    public void Clear_ForgetsEveryEntry()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("a", TimeSpan.FromSeconds(10));
        cache.Add("b", TimeSpan.FromSeconds(10));

        cache.Clear();

        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGetRetryAfter("a", out _));
        Assert.False(cache.TryGetRetryAfter("b", out _));
    }

    [Fact]
    public void Add_AtMaxEntriesWithNothingExpired_IsIgnored()
    {
        var cache = Full(TimeSpan.FromSeconds(30));

        cache.Add("one-too-many", TimeSpan.FromSeconds(30));

        Assert.Equal(OverLimitCache.MaxEntries, cache.Count);
        Assert.False(cache.TryGetRetryAfter("one-too-many", out _));
        Assert.True(cache.TryGetRetryAfter("p0", out _));
    }

    [Fact]
    public void Add_AtMaxEntriesAfterAllExpired_SweepsAndAdds()
    {
        var cache = Full(TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(30));

        cache.Add("new", TimeSpan.FromSeconds(5));

        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGetRetryAfter("new", out var retryAfter));
        Assert.Equal(TimeSpan.FromSeconds(5), retryAfter);
    }

    [Fact]
    public void Add_AtMaxEntriesWithSomeExpired_SweepsOnlyExpired()
    {
        var cache = new OverLimitCache(_time);
        for (var i = 0; i < OverLimitCache.MaxEntries; i++)
        {
            cache.Add($"p{i}", i % 2 == 0 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(60));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        cache.Add("new", TimeSpan.FromSeconds(5));

        Assert.Equal((OverLimitCache.MaxEntries / 2) + 1, cache.Count);
        Assert.True(cache.TryGetRetryAfter("new", out _));
        Assert.True(cache.TryGetRetryAfter("p1", out _));
        Assert.False(cache.TryGetRetryAfter("p0", out _));
    }

    private OverLimitCache Full(TimeSpan retryAfter)
    {
        var cache = new OverLimitCache(_time);
        for (var i = 0; i < OverLimitCache.MaxEntries; i++)
        {
            cache.Add($"p{i}", retryAfter);
        }

        Assert.Equal(OverLimitCache.MaxEntries, cache.Count);
        return cache;
    }
}
