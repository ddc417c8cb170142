using System.Globalization;

namespace MdvGateway.AuditConsumer.Persistence;

/// <summary>One calendar month (UTC) of <c>audit_logs</c>: the partition <c>audit_logs_yYYYYmMM</c>.</summary>
internal readonly record struct MonthPartition(int Year, int Month) : IComparable<MonthPartition>
{
    public string Name => string.Create(CultureInfo.InvariantCulture, $"{AuditSchema.MonthlyPartitionPrefix}{Year:D4}m{Month:D2}");

    /// <summary>Inclusive lower bound: midnight UTC on the 1st.</summary>
    public DateTimeOffset From => new(Year, Month, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>Exclusive upper bound: the next month's <see cref="From"/>.</summary>
    public DateTimeOffset To => From.AddMonths(1);

    public static MonthPartition Of(DateTimeOffset instant)
    {
        var utc = instant.UtcDateTime;
        return new MonthPartition(utc.Year, utc.Month);
    }

    public MonthPartition AddMonths(int months) => Of(From.AddMonths(months));

    /// <summary>Recognises our own partition names; anything else attached to the table is not ours to drop.</summary>
    public static bool TryParseName(string name, out MonthPartition partition)
    {
        partition = default;
        var prefix = AuditSchema.MonthlyPartitionPrefix;
        if (name.Length != prefix.Length + 7 || !name.StartsWith(prefix, StringComparison.Ordinal) || name[prefix.Length + 4] != 'm'
            || !int.TryParse(name.AsSpan(prefix.Length, 4), NumberStyles.None, CultureInfo.InvariantCulture, out var year)
            || !int.TryParse(name.AsSpan(prefix.Length + 5, 2), NumberStyles.None, CultureInfo.InvariantCulture, out var month)
            || year < 1 || month is < 1 or > 12)
        {
            return false;
        }

        partition = new MonthPartition(year, month);
        return true;
    }

    /// <summary>A bound as a PostgreSQL <c>timestamptz</c> literal.</summary>
    public static string Literal(DateTimeOffset instant)
        => instant.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss'+00'", CultureInfo.InvariantCulture);

    public int CompareTo(MonthPartition other) => (Year * 12 + Month).CompareTo(other.Year * 12 + other.Month);

    public static bool operator <(MonthPartition left, MonthPartition right) => left.CompareTo(right) < 0;

    public static bool operator >(MonthPartition left, MonthPartition right) => left.CompareTo(right) > 0;

    public static bool operator <=(MonthPartition left, MonthPartition right) => left.CompareTo(right) <= 0;

    public static bool operator >=(MonthPartition left, MonthPartition right) => left.CompareTo(right) >= 0;

    public override string ToString() => Name;
}
