using System.Collections.Concurrent;

namespace MdvGateway.Gateway.IpBans;

/// <summary>
/// This node's copy of every active ban, so that the request path never asks Redis about bans. Single addresses
/// and IPv6 client prefixes are a dictionary lookup by client key; other ranges are scanned (they are few).
/// </summary>
internal sealed class BanCache
{
    private readonly ConcurrentDictionary<string, Ban> _byClientKey = new(StringComparer.Ordinal);
    private readonly Lock _rangesLock = new();
    private (BanTarget Target, Ban Ban)[] _ranges = [];
    private volatile bool _loaded;

    /// <summary>Whether the cache has been filled from Redis at least once (readiness waits for it).</summary>
    public bool IsLoaded => _loaded;

    public int Count => _byClientKey.Count + Volatile.Read(ref _ranges).Length;

    /// <summary>The ban covering this client now, if any; the longest one when several do.</summary>
    public Ban? Find(ClientIdentity.ClientIdentity client, DateTimeOffset now)
    {
        Ban? found = null;
        if (_byClientKey.TryGetValue(client.Key, out var exact) && exact.IsActiveAt(now))
        {
            found = exact;
        }

        var ranges = Volatile.Read(ref _ranges);
        if (ranges.Length == 0)
        {
            return found;
        }

        foreach (var (target, ban) in ranges)
        {
            if (ban.IsActiveAt(now) && target.Contains(client.Address) && Longer(ban, found))
            {
                found = ban;
            }
        }

        return found;
    }

    /// <summary>Replaces the whole content (initial load and resynchronisation).</summary>
    public void ReplaceAll(IEnumerable<Ban> bans, int ipv6PrefixLength)
    {
        var exact = new Dictionary<string, Ban>(StringComparer.Ordinal);
        var ranges = new List<(BanTarget, Ban)>();
        foreach (var ban in bans)
        {
            if (!BanTarget.TryParse(ban.Target, ipv6PrefixLength, out var target, out _))
            {
                continue;
            }

            if (target.IsClientKey)
            {
                exact[target.Canonical] = ban;
            }
            else
            {
                ranges.Add((target, ban));
            }
        }

        foreach (var key in _byClientKey.Keys)
        {
            if (!exact.ContainsKey(key))
            {
                _byClientKey.TryRemove(key, out _);
            }
        }

        foreach (var (key, ban) in exact)
        {
            _byClientKey[key] = ban;
        }

        lock (_rangesLock)
        {
            Volatile.Write(ref _ranges, [.. ranges]);
        }

        _loaded = true;
    }

    public void Upsert(Ban ban, int ipv6PrefixLength)
    {
        if (!BanTarget.TryParse(ban.Target, ipv6PrefixLength, out var target, out _))
        {
            return;
        }

        if (target.IsClientKey)
        {
            _byClientKey[target.Canonical] = ban;
            return;
        }

        lock (_rangesLock)
        {
            var ranges = Volatile.Read(ref _ranges).Where(r => r.Target.Canonical != target.Canonical).Append((target, ban)).ToArray();
            Volatile.Write(ref _ranges, ranges);
        }
    }

    public void Remove(string target)
    {
        _byClientKey.TryRemove(target, out _);
        lock (_rangesLock)
        {
            var ranges = Volatile.Read(ref _ranges);
            if (Array.Exists(ranges, r => r.Target.Canonical == target))
            {
                Volatile.Write(ref _ranges, ranges.Where(r => r.Target.Canonical != target).ToArray());
            }
        }
    }

    private static bool Longer(Ban candidate, Ban? current)
        => current is null || (current.ExpiresAt is { } currentEnd && (candidate.ExpiresAt is not { } end || end > currentEnd));
}
