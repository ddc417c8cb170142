using MdvGateway.Gateway.Redis;
using StackExchange.Redis;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>
/// Removes the unused permits of a reserve from the sub-windows they were counted in, so they count against the
/// partition no longer than it took to know nobody would use them.
/// </summary>
internal sealed class GiveBackOperation(Reservation reservation, int unused, long enqueuedAt, Action<int> done)
    : BatchOperation(reservation.Partition.Bucket, enqueuedAt)
{
    public override void Write(string prefix, List<RedisKey> keys, List<RedisValue> values)
    {
        var limits = reservation.Policy.Limits;
        values.Add("g");
        values.Add(limits.Length);
        for (var l = 0; l < limits.Length; l++)
        {
            values.Add(reservation.Fields[l]);
            values.Add(unused);
            keys.Add(RedisKeys.RateLimitWindow(prefix, reservation.Partition.Bucket, reservation.Policy.Name, limits[l].Name, reservation.Partition.Value));
        }
    }

    private int _returned;

    public override void Read(RedisResult[] results, ref int position, DateTimeOffset now)
    {
        _returned = (int)results[position] / reservation.Policy.Limits.Length;
        position++;
    }

    public override void Deliver() => done(_returned);

    public override void Fail(StoreStatus status)
    {
        // Redis is away: the permits stay counted until their sub-window leaves the window (fewer admitted, never more).
        done(0);
    }
}
