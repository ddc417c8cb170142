using MdvGateway.Gateway.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// What one request counts against under a policy's <c>PartitionBy</c>, and the Redis bucket its windows live in.
/// </summary>
/// <param name="Value">The client key, <c>route:client</c>, or a header's digest.</param>
/// <param name="Bucket">
/// The bucket of the client's key for <c>ClientIp</c> and <c>Route+ClientIp</c> partitions, so the windows and the
/// client's strikes share one slot and one call can count both; a header partition (shared by every address that sends
/// the header) has the bucket of its own value.
/// </param>
internal readonly record struct LimitPartition(string Value, int Bucket)
{
    public static LimitPartition Of(string value, string bucketOf) => new(value, RedisKeys.Bucket(bucketOf));
}
