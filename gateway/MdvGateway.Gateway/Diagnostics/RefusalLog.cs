using System.Collections.Concurrent;

namespace MdvGateway.Gateway.Diagnostics;

/// <summary>
/// Counts refused and unrouted requests per client and reason, and writes them as a summary once per interval: at most
/// <see cref="RequestLogOptions.RefusalSummaryClients"/> lines naming a client (7101), then one line per reason for the
/// rest (7102). The log then grows with the interval, not with the flood; the audit trail and the metrics keep every
/// refusal. The table is cleared at each summary and holds at most <see cref="RequestLogOptions.RefusalTrackedClients"/>
/// entries; beyond that, refusals are counted per reason only (exact totals, no address).
/// </summary>
internal sealed partial class RefusalLog : IDisposable
{
    /// <summary>The <see cref="HttpContext.Items"/> key marking a request whose refusal was counted here.</summary>
    internal static readonly object Marker = new();

    private readonly RequestLogOptions _options;
    private readonly ILogger<RefusalLog> _logger;
    private readonly TimeProvider _time;
    private readonly ITimer _timer;
    private readonly Lock _swap = new();
    private Interval _current;

    public RefusalLog(RequestLogOptions options, ILogger<RefusalLog> logger, TimeProvider time)
    {
        _options = options;
        _logger = logger;
        _time = time;
        _current = new Interval(time.GetTimestamp());
        _timer = time.CreateTimer(static state => ((RefusalLog)state!).Flush(), this, options.RefusalSummaryInterval, options.RefusalSummaryInterval);
    }

    /// <summary>Clients counted one by one in the current interval (a gauge; cleared at each summary).</summary>
    internal int TrackedClients => Volatile.Read(ref _current).Clients.Count;

    /// <summary>Whether refused requests also keep their own request-log line.</summary>
    public bool LogRefusedRequests => _options.LogRefusedRequests;

    /// <summary>Counts a refusal of <paramref name="client"/> and marks the request, so its own log line is left out.</summary>
    public void Record(HttpContext context, string client, string reason)
    {
        context.Items[Marker] = reason;
        var interval = Volatile.Read(ref _current);
        var key = (client, reason);
        if (interval.Clients.TryGetValue(key, out var count))
        {
            Interlocked.Increment(ref count.Value);
            return;
        }

        if (Interlocked.Increment(ref interval.Tracked) <= _options.RefusalTrackedClients)
        {
            Interlocked.Increment(ref interval.Clients.GetOrAdd(key, static _ => new Counter()).Value);
            return;
        }

        Interlocked.Decrement(ref interval.Tracked);
        Interlocked.Increment(ref interval.Untracked.GetOrAdd(reason, static _ => new Counter()).Value);
    }

    /// <summary>Whether the request's refusal was counted here (its own log line is then left out).</summary>
    public static bool IsRefusal(HttpContext context) => context.Items.ContainsKey(Marker);

    /// <summary>Writes the summary of the interval that just ended and starts a new one.</summary>
    internal void Flush()
    {
        Interval ended;
        lock (_swap)
        {
            ended = _current;
            if (ended.Clients.IsEmpty && ended.Untracked.IsEmpty)
            {
                return;
            }

            Volatile.Write(ref _current, new Interval(_time.GetTimestamp()));
        }

        var seconds = Math.Round(_time.GetElapsedTime(ended.Started).TotalSeconds, 1);
        var entries = ended.Clients.ToArray();
        Array.Sort(entries, static (a, b) => b.Value.Value.CompareTo(a.Value.Value));
        var named = Math.Min(entries.Length, _options.RefusalSummaryClients);
        for (var i = 0; i < named; i++)
        {
            var ((client, reason), count) = entries[i];
            Log.ClientRefused(_logger, client, reason, count.Value, seconds);
        }

        // The rest, per reason: exact request counts, and how many of them came from clients counted one by one.
        var rest = new Dictionary<string, (long Requests, int Clients)>(StringComparer.Ordinal);
        for (var i = named; i < entries.Length; i++)
        {
            var ((_, reason), count) = entries[i];
            var (requests, clients) = rest.GetValueOrDefault(reason);
            rest[reason] = (requests + count.Value, clients + 1);
        }

        foreach (var (reason, count) in ended.Untracked)
        {
            var (requests, clients) = rest.GetValueOrDefault(reason);
            rest[reason] = (requests + count.Value, clients);
        }

        foreach (var (reason, (requests, clients)) in rest.OrderBy(r => r.Key, StringComparer.Ordinal))
        {
            var untracked = ended.Untracked.TryGetValue(reason, out var u) ? u.Value : 0;
            Log.OthersRefused(_logger, requests, reason, clients, untracked, seconds);
        }
    }

    public void Dispose()
    {
        _timer.Dispose();
        Flush();
    }

    private sealed class Counter
    {
        public long Value;
    }

    private sealed class Interval(long started)
    {
        public long Started { get; } = started;

        public ConcurrentDictionary<(string Client, string Reason), Counter> Clients { get; } = new();

        public ConcurrentDictionary<string, Counter> Untracked { get; } = new(StringComparer.Ordinal);

        public int Tracked;
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 7101, Level = LogLevel.Information, Message = "Refused {Count} requests of {ClientIp} ({Reason}) in the last {Seconds} s")]
        public static partial void ClientRefused(ILogger logger, string clientIp, string reason, long count, double seconds);

        [LoggerMessage(EventId = 7102, Level = LogLevel.Information, Message = "Refused {Count} more requests ({Reason}) in the last {Seconds} s: {Clients} other clients counted one by one, {Untracked} requests of clients past RequestLog:RefusalTrackedClients")]
        public static partial void OthersRefused(ILogger logger, long count, string reason, int clients, long untracked, double seconds);
    }
}

/// <summary>Why a request was refused, as the refusal summary names it.</summary>
internal static class RefusalReasons
{
    public const string RateLimited = "rate_limited";
    public const string StoreUnavailable = "store_unavailable";
    public const string Banned = "banned";
    public const string Unrouted = "unrouted";
    public const string BodyTooLarge = "body_too_large";
}
