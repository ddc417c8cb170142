using StackExchange.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// One operation of a batch call to <c>decide.lua</c>: it appends its keys and arguments, then reads its part of the
/// result, in the order the script consumes them.
/// </summary>
internal abstract class BatchOperation(int bucket, long enqueuedAt)
{
    /// <summary>The bucket of every key the operation touches (one slot on Redis Cluster).</summary>
    public int Bucket { get; } = bucket;

    /// <summary>When it was queued (the store's <see cref="TimeProvider.GetTimestamp"/>).</summary>
    public long EnqueuedAt { get; } = enqueuedAt;

    /// <summary>Appends the opcode, the arguments and the keys.</summary>
    public abstract void Write(string prefix, List<RedisKey> keys, List<RedisValue> values);

    /// <summary>
    /// Reads this operation's results from <paramref name="results"/>, starting at <paramref name="position"/>, and
    /// installs what must be in place before the next batch is cut (reserves); resumes nobody.
    /// </summary>
    public abstract void Read(RedisResult[] results, ref int position, DateTimeOffset now);

    /// <summary>Answers the requests (or callbacks) waiting for this operation, with what <see cref="Read"/> found.</summary>
    public abstract void Deliver();

    /// <summary>The call could not be made or did not answer in time.</summary>
    public abstract void Fail(StoreStatus status);
}
