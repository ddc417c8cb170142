using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// One request waiting for Redis to decide it under one policy. Requests of the same policy and partition that travel
/// in one call are written as one operation of <c>n</c> requests (<see cref="Followers"/>): the script admits the
/// first ones while every limit has room, exactly as one call per request in arrival order would.
/// </summary>
/// <remarks>
/// Continuations run synchronously: the call's completion resumes each request in turn on the thread that read the
/// answer, instead of handing every one of them to the thread pool again. Results are never set under a lock.
/// </remarks>
internal sealed class DecisionRequest(RateLimitPolicy policy, LimitPartition partition, string? strikeClient, long enqueuedAt)
    : BatchOperation(partition.Bucket, enqueuedAt)
{
    private readonly TaskCompletionSource<StoreAnswer> _answer = new();
    private StoreAnswer[]? _answers;

    public RateLimitPolicy Policy { get; } = policy;

    public LimitPartition Partition { get; } = partition;

    /// <summary>The client key to count a refusal against in the same call; null when the caller counts it (or nobody).</summary>
    public string? StrikeClient { get; } = strikeClient;

    /// <summary>Permits the call should count ahead for the requests that follow (see <see cref="ReservationTable"/>).</summary>
    public int ReserveWanted { get; set; }

    /// <summary>Requests of the same policy and partition written with this one, in arrival order; null when alone.</summary>
    public List<DecisionRequest>? Followers { get; set; }

    /// <summary>Told about permits the call reserved, before any request of the operation resumes.</summary>
    public Action<DecisionRequest, Reservation>? ReservationSink { get; set; }

    public Task<StoreAnswer> Answer => _answer.Task;

    public int Count => 1 + (Followers?.Count ?? 0);

    public override void Write(string prefix, List<RedisKey> keys, List<RedisValue> values)
    {
        var limits = Policy.Limits;
        values.Add("d");
        values.Add(Count);
        values.Add(limits.Length);
        values.Add(ReserveWanted);
        values.Add(StrikeClient is null ? "0" : "1");
        if (StrikeClient is not null)
        {
            values.Add(StrikeClient);
        }

        foreach (var limit in limits)
        {
            values.Add(limit.PermitLimit);
            values.Add((long)limit.Window.TotalMilliseconds);
            values.Add(limit.GranularityMs);
            keys.Add(RedisKeys.RateLimitWindow(prefix, Partition.Bucket, Policy.Name, limit.Name, Partition.Value));
        }

        if (StrikeClient is not null)
        {
            StrikeKeys.Append(prefix, StrikeClient, Partition.Bucket, keys);
        }
    }

    public override void Read(RedisResult[] results, ref int position, DateTimeOffset now)
    {
        var limits = Policy.Limits;
        var admitted = (int)results[position];
        var reserved = (int)results[position + 1];
        var strikes = (int)results[position + 2];
        var level = (int)results[position + 3];
        var banMs = (long)results[position + 4];
        position += 5;
        Span<long> before = stackalloc long[limits.Length];
        var retry = new TimeSpan[limits.Length];
        var fields = reserved > 0 ? new long[limits.Length] : null;
        for (var l = 0; l < limits.Length; l++)
        {
            before[l] = (long)results[position];
            retry[l] = TimeSpan.FromMilliseconds((long)results[position + 1]);
            if (fields is not null)
            {
                fields[l] = (long)results[position + 2];
            }

            position += 3;
        }

        if (fields is not null && ReservationSink is { } sink)
        {
            var remaining = new long[limits.Length];
            for (var l = 0; l < limits.Length; l++)
            {
                remaining[l] = limits[l].PermitLimit - before[l] - admitted;
            }

            sink(this, new Reservation(Policy, Partition, reserved, fields, remaining, EnqueuedAt));
        }

        var ban = level > 0 ? new EarnedBan(level, TimeSpan.FromMilliseconds(banMs), strikes, now) : null;
        var n = Count;
        _answers = new StoreAnswer[n];
        for (var i = 0; i < n; i++)
        {
            var outcomes = new LimitOutcome[limits.Length];
            for (var l = 0; l < limits.Length; l++)
            {
                var limit = limits[l];
                if (i < admitted)
                {
                    outcomes[l] = LimitOutcome.Admitted(limit, Math.Max(0, limit.PermitLimit - before[l] - i - 1));
                }
                else if (before[l] + admitted >= limit.PermitLimit)
                {
                    outcomes[l] = LimitOutcome.Rejected(limit, retry[l]);
                }
                else
                {
                    // This limit had room; another one refused the request, so nothing was counted here.
                    outcomes[l] = LimitOutcome.Admitted(limit, Math.Max(0, limit.PermitLimit - before[l] - admitted));
                }
            }

            var refused = i >= admitted;
            _answers[i] = new StoreAnswer(StoreStatus.Ok, outcomes, refused && StrikeClient is not null, refused && i == admitted ? ban : null);
        }
    }

    public override void Deliver()
    {
        for (var i = 0; i < _answers!.Length; i++)
        {
            Member(i)._answer.TrySetResult(_answers[i]);
        }
    }

    public override void Fail(StoreStatus status)
    {
        _answer.TrySetResult(StoreAnswer.Unanswered(status));
        foreach (var follower in Followers ?? [])
        {
            follower._answer.TrySetResult(StoreAnswer.Unanswered(status));
        }
    }

    /// <summary>Completes this request alone, without a call (a reserved permit served it).</summary>
    public void Complete(StoreAnswer answer) => _answer.TrySetResult(answer);

    private DecisionRequest Member(int i) => i == 0 ? this : Followers![i - 1];
}
