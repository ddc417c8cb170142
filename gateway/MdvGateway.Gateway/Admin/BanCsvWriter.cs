using System.Globalization;
using System.Text;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// Bans as CSV (RFC 4180: CRLF line ends, fields with a comma, quote or line break quoted, quotes doubled), with a
/// header row. A cell that a spreadsheet would run as a formula (it starts with <c>= + - @</c>, a tab or a carriage
/// return) gets a leading <c>'</c>: reasons and key names are text typed by people, and an export is opened in Excel.
/// </summary>
internal static class BanCsvWriter
{
    public static readonly string[] Columns = ["target", "origin", "reason", "level", "createdAt", "expiresAt", "createdBy", "policy", "strikes"];

    public static string Write(IEnumerable<Ban> bans)
    {
        var csv = new StringBuilder();
        AppendRow(csv, Columns);
        foreach (var ban in bans)
        {
            AppendRow(csv,
            [
                ban.Target,
                ban.Origin,
                ban.Reason,
                ban.Level.ToString(CultureInfo.InvariantCulture),
                FormatInstant(ban.CreatedAt),
                ban.ExpiresAt is { } end ? FormatInstant(end) : null,
                ban.CreatedBy,
                ban.Policy,
                ban.Strikes?.ToString(CultureInfo.InvariantCulture),
            ]);
        }

        return csv.ToString();
    }

    /// <summary>One cell, neutralised and quoted as needed.</summary>
    public static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
        {
            return string.Empty;
        }

        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
        {
            value = "'" + value;
        }

        return value.AsSpan().IndexOfAny(",\"\r\n") >= 0
            ? "\"" + value.Replace("\"", "\"\"", StringComparison.Ordinal) + "\""
            : value;
    }

    public static string FormatInstant(DateTimeOffset instant)
        => instant.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);

    private static void AppendRow(StringBuilder csv, string?[] cells)
    {
        for (var i = 0; i < cells.Length; i++)
        {
            if (i > 0)
            {
                csv.Append(',');
            }

            csv.Append(Cell(cells[i]));
        }

        csv.Append("\r\n");
    }
}
