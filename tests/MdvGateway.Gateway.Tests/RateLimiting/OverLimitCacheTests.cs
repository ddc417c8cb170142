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

        Assert.False(cache.TryGetRetryAfter("auth", "mdv:auth:auth:203.0.113.5", out var retryAfter, out _));
        Assert.Equal(TimeSpan.Zero, retryAfter);
    }

    [Fact]
    public void TryGetRetryAfter_BeforeExpiry_RejectsWithRemainingTime()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("auth", "p", TimeSpan.FromSeconds(10));

        Assert.True(cache.TryGetRetryAfter("auth", "p", out var atOnce, out _));
        Assert.Equal(TimeSpan.FromSeconds(10), atOnce);

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.True(cache.TryGetRetryAfter("auth", "p", out var later, out _));
        Assert.Equal(TimeSpan.FromSeconds(6), later);

        _time.Advance(TimeSpan.FromMilliseconds(5_999));
        Assert.True(cache.TryGetRetryAfter("auth", "p", out var last, out _));
        Assert.Equal(TimeSpan.FromMilliseconds(1), last);
    }

    [Fact]
    public void TryGetRetryAfter_AtExpiry_StopsRejectingAndForgets()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("auth", "p", TimeSpan.FromSeconds(10));

        _time.Advance(TimeSpan.FromSeconds(10));

        Assert.False(cache.TryGetRetryAfter("auth", "p", out var retryAfter, out _));
        Assert.Equal(TimeSpan.Zero, retryAfter);
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void TryGetRetryAfter_OtherPartition_IsNotAffected()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("auth", "mdv:auth:auth:203.0.113.5", TimeSpan.FromSeconds(10));

        Assert.False(cache.TryGetRetryAfter("auth", "mdv:auth:auth:203.0.113.6", out _, out _));
        Assert.False(cache.TryGetRetryAfter("auth", "MDV:AUTH:AUTH:203.0.113.5", out _, out _));
    }

    [Fact]
    public void Add_SamePartitionAgain_ReplacesExpiry()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("auth", "p", TimeSpan.FromSeconds(10));

        cache.Add("auth", "p", TimeSpan.FromSeconds(2));

        Assert.True(cache.TryGetRetryAfter("auth", "p", out var retryAfter, out _));
        Assert.Equal(TimeSpan.FromSeconds(2), retryAfter);
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Add_ZeroRetryAfter_DoesNotReject()
    {
        var cache = new OverLimitCache(_time);

        cache.Add("auth", "p", TimeSpan.Zero);

        Assert.False(cache.TryGetRetryAfter("auth", "p", out _, out _));
    }

    [Fact]
    public void Clear_ForgetsEveryEntry()
    {
        var cache = new OverLimitCache(_time);
        cache.Add("auth", "a", TimeSpan.FromSeconds(10));
        cache.Add("auth", "b", TimeSpan.FromSeconds(10));

        cache.Clear();

        Assert.Equal(0, cache.Count);
        Assert.False(cache.TryGetRetryAfter("auth", "a", out _, out _));
        Assert.False(cache.TryGetRetryAfter("auth", "b", out _, out _));
    }

    [Fact]
    public void Add_AtMaxEntriesWithNothingExpired_IsIgnored()
    {
        var cache = Full(TimeSpan.FromSeconds(30));

        cache.Add("auth", "one-too-many", TimeSpan.FromSeconds(30));

        Assert.Equal(OverLimitCache.MaxEntries, cache.Count);
        Assert.False(cache.TryGetRetryAfter("auth", "one-too-many", out _, out _));
        Assert.True(cache.TryGetRetryAfter("auth", "p0", out _, out _));
    }

    [Fact]
    public void Add_AtMaxEntriesAfterAllExpired_SweepsAndAdds()
    {
        var cache = Full(TimeSpan.FromSeconds(30));
        _time.Advance(TimeSpan.FromSeconds(30));

        cache.Add("auth", "new", TimeSpan.FromSeconds(5));

        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGetRetryAfter("auth", "new", out var retryAfter, out _));
        Assert.Equal(TimeSpan.FromSeconds(5), retryAfter);
    }

    [Fact]
    public void Add_AtMaxEntriesWithSomeExpired_SweepsOnlyExpired()
    {
        var cache = new OverLimitCache(_time);
        for (var i = 0; i < OverLimitCache.MaxEntries; i++)
        {
            cache.Add("auth", $"p{i}", i % 2 == 0 ? TimeSpan.FromSeconds(1) : TimeSpan.FromSeconds(60));
        }

        _time.Advance(TimeSpan.FromSeconds(1));
        cache.Add("auth", "new", TimeSpan.FromSeconds(5));

        Assert.Equal((OverLimitCache.MaxEntries / 2) + 1, cache.Count);
        Assert.True(cache.TryGetRetryAfter("auth", "new", out _, out _));
        Assert.True(cache.TryGetRetryAfter("auth", "p1", out _, out _));
        Assert.False(cache.TryGetRetryAfter("auth", "p0", out _, out _));
    }

    private OverLimitCache Full(TimeSpan retryAfter)
    {
        var cache = new OverLimitCache(_time);
        for (var i = 0; i < OverLimitCache.MaxEntries; i++)
        {
            cache.Add("auth", $"p{i}", retryAfter);
        }

        Assert.Equal(OverLimitCache.MaxEntries, cache.Count);
        return cache;
    }

    [Fact]
    public void Entries_AreKeptPerPolicy_AndRememberWhichLimitRefused()
    {
        var cache = new OverLimitCache(new Microsoft.Extensions.Time.Testing.FakeTimeProvider());
        cache.Add("auth", "203.0.113.5", TimeSpan.FromSeconds(10), limit: 1);

        Assert.False(cache.TryGetRetryAfter("per-ip", "203.0.113.5", out _, out _));
        Assert.True(cache.TryGetRetryAfter("auth", "203.0.113.5", out _, out var limit));
        Assert.Equal(1, limit);
    }

    [Fact]
    public void AFullCache_IsSweptAtMostOncePerSweepInterval_ThenTakesNewEntriesAgain()
    {
        var cache = new OverLimitCache(_time);
        for (var i = 0; i < OverLimitCache.MaxEntries; i++)
        {
            cache.Add("auth", $"p{i}", TimeSpan.FromMilliseconds(100));
        }

        // Full of live entries: the sweep finds nothing, and the new entry is not kept.
        cache.Add("auth", "first-extra", TimeSpan.FromSeconds(10));
        Assert.Equal(OverLimitCache.MaxEntries, cache.Count);

        // Everything has expired, but a sweep ran less than SweepEvery ago: still full, no walk of the table.
        _time.Advance(TimeSpan.FromMilliseconds(200));
        cache.Add("auth", "second-extra", TimeSpan.FromSeconds(10));
        Assert.Equal(OverLimitCache.MaxEntries, cache.Count);
        Assert.False(cache.TryGetRetryAfter("auth", "second-extra", out _, out _));

        _time.Advance(OverLimitCache.SweepEvery);
        cache.Add("auth", "third-extra", TimeSpan.FromSeconds(10));
        Assert.Equal(1, cache.Count);
        Assert.True(cache.TryGetRetryAfter("auth", "third-extra", out _, out _));
    }
}
