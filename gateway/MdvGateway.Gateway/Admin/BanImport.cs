using System.Text.Json;
using MdvGateway.Gateway.IpBans;

namespace MdvGateway.Gateway.Admin;

/// <summary>One line of an import before validation; <see cref="Error"/> is set when it could not even be read.</summary>
internal sealed record ImportCandidate(int Line, string? Target, string? Duration, string? Reason, string? Error = null);

/// <summary>What every line of one import is validated against.</summary>
internal sealed record ImportRules(int Ipv6PrefixLength, IReadOnlyList<string> Allowlist, bool OverrideAllowlist, DateTimeOffset Now, string CreatedBy);

/// <summary>
/// Bulk import of a blocklist, as pure logic: a JSON array of <c>{target, duration, reason}</c> or CSV with the header
/// <c>target,duration,reason</c> (<c>reason</c> may be left out; an empty duration is permanent). The file's shape is
/// checked as a whole; each line is then validated on its own, so one bad line never blocks the others.
/// </summary>
internal static class BanImport
{
    public const int MaxLines = 100_000;

    private static readonly string[] CsvColumns = ["target", "duration", "reason"];

    public static bool TryParseJson(JsonDocument document, out List<ImportCandidate> candidates, out string error)
    {
        candidates = [];
        if (document.RootElement.ValueKind != JsonValueKind.Array)
        {
            error = "a JSON import is an array of {\"target\", \"duration\", \"reason\"} objects";
            return false;
        }

        if (document.RootElement.GetArrayLength() > MaxLines)
        {
            error = $"an import has at most {MaxLines} lines; split the file";
            return false;
        }

        var line = 0;
        foreach (var element in document.RootElement.EnumerateArray())
        {
            line++;
            var target = element.ValueKind == JsonValueKind.Object && element.TryGetProperty("target", out var t) && t.ValueKind == JsonValueKind.String ? t.GetString() : null;
            candidates.Add(StrictJson.TryRead(element, AdminJson.Default.ImportBanLine, ImportBanLine.Fields, ImportBanLine.Required, out var item, out _, out var why)
                ? new ImportCandidate(line, item!.Target, item.Duration, item.Reason)
                : new ImportCandidate(line, target, null, null, why));
        }

        error = string.Empty;
        return true;
    }

    public static bool TryParseCsv(string text, out List<ImportCandidate> candidates, out string error)
    {
        candidates = [];
        if (!CsvRecordReader.TryRead(text, MaxLines + 1, out var records, out error))
        {
            error = error.StartsWith("more than", StringComparison.Ordinal) ? $"an import has at most {MaxLines} lines; split the file" : error;
            return false;
        }

        if (records.Count == 0)
        {
            error = "the CSV is empty; it needs the header target,duration,reason";
            return false;
        }

        var header = records[0].Fields.Select(f => f.Trim().ToLowerInvariant()).ToArray();
        var unknown = header.FirstOrDefault(h => !CsvColumns.Contains(h, StringComparer.Ordinal));
        if (unknown is not null || header.Distinct(StringComparer.Ordinal).Count() != header.Length
            || Array.IndexOf(header, "target") < 0 || Array.IndexOf(header, "duration") < 0)
        {
            error = "the first line must be the header target,duration,reason (reason may be left out)";
            return false;
        }

        var targetAt = Array.IndexOf(header, "target");
        var durationAt = Array.IndexOf(header, "duration");
        var reasonAt = Array.IndexOf(header, "reason");
        foreach (var record in records.Skip(1))
        {
            var fields = record.Fields;
            if (fields.Length != header.Length)
            {
                candidates.Add(new ImportCandidate(record.Line, fields[0], null, null, $"expected {header.Length} fields, found {fields.Length}"));
                continue;
            }

            var duration = fields[durationAt].Trim();
            candidates.Add(new ImportCandidate(
                record.Line,
                fields[targetAt],
                duration.Length == 0 ? null : duration,
                reasonAt < 0 || fields[reasonAt].Length == 0 ? null : fields[reasonAt]));
        }

        error = string.Empty;
        return true;
    }

    /// <returns>The bans to write (one per distinct target) and the lines refused, with why.</returns>
    public static (List<Ban> Bans, List<ImportRejection> Rejected) Validate(IEnumerable<ImportCandidate> candidates, ImportRules rules)
    {
        var bans = new List<Ban>();
        var rejected = new List<ImportRejection>();
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var candidate in candidates)
        {
            var shown = candidate.Target is null ? null : BanInput.Shorten(candidate.Target);
            if (candidate.Error is { } unreadable)
            {
                rejected.Add(new ImportRejection(candidate.Line, shown, unreadable));
                continue;
            }

            if (!BanInput.TryParseTarget(candidate.Target, rules.Ipv6PrefixLength, out var target, out var error)
                || !BanInput.TryParseDuration(candidate.Duration, out var duration, out error)
                || !BanInput.TryValidateReason(candidate.Reason, out error))
            {
                rejected.Add(new ImportRejection(candidate.Line, shown, error));
                continue;
            }

            if (!seen.TryAdd(target.Canonical, candidate.Line))
            {
                rejected.Add(new ImportRejection(candidate.Line, shown, $"{target.Canonical} is already on line {seen[target.Canonical]}"));
                continue;
            }

            if (!rules.OverrideAllowlist && BanInput.AllowlistOverlap(target, rules.Allowlist) is { } entry)
            {
                rejected.Add(new ImportRejection(candidate.Line, shown,
                    $"{target.Canonical} overlaps the allowlist entry {entry}; import with ?overrideAllowlist=true to ban it anyway"));
                continue;
            }

            bans.Add(new Ban
            {
                Target = target.Canonical,
                Origin = BanOrigins.Imported,
                Reason = candidate.Reason,
                Level = 0,
                CreatedAt = rules.Now,
                ExpiresAt = rules.Now + duration,
                CreatedBy = rules.CreatedBy,
            });
        }

        return (bans, rejected);
    }
}
