namespace MdvGateway.Gateway.Admin;

/// <summary>One CSV record and the line it starts on (1-based; a quoted field may span lines).</summary>
internal sealed record CsvRecord(int Line, string[] Fields);

/// <summary>
/// Reads RFC 4180 CSV: comma-separated, fields optionally quoted, quotes doubled inside quotes, line breaks inside
/// quotes kept. CRLF and LF line ends are both accepted, a UTF-8 byte order mark is skipped, blank lines are skipped.
/// Structural errors (an unterminated quote, text after a closing quote) fail the whole read: after one, record
/// boundaries cannot be trusted.
/// </summary>
internal static class CsvRecordReader
{
    public static bool TryRead(string text, int maxRecords, out List<CsvRecord> records, out string error)
    {
        records = [];
        error = string.Empty;
        var position = text.Length > 0 && text[0] == '\uFEFF' ? 1 : 0;
        var line = 1;
        var fields = new List<string>();
        var field = new System.Text.StringBuilder();

        while (position < text.Length)
        {
            var recordLine = line;
            fields.Clear();
            while (true)
            {
                field.Clear();
                if (position < text.Length && text[position] == '"')
                {
                    var openedAt = line;
                    position++;
                    while (true)
                    {
                        if (position >= text.Length)
                        {
                            error = $"line {openedAt}: a quoted field is never closed";
                            return false;
                        }

                        var c = text[position++];
                        if (c == '"')
                        {
                            if (position < text.Length && text[position] == '"')
                            {
                                field.Append('"');
                                position++;
                                continue;
                            }

                            break;
                        }

                        if (c == '\n')
                        {
                            line++;
                        }

                        field.Append(c);
                    }

                    if (position < text.Length && text[position] is not (',' or '\r' or '\n'))
                    {
                        error = $"line {line}: unexpected text after a closing quote";
                        return false;
                    }
                }
                else
                {
                    while (position < text.Length && text[position] is not (',' or '\r' or '\n'))
                    {
                        field.Append(text[position++]);
                    }
                }

                fields.Add(field.ToString());
                if (position < text.Length && text[position] == ',')
                {
                    position++;
                    continue;
                }

                // End of record: CRLF, LF, a lone CR, or the end of the text.
                if (position < text.Length && text[position] == '\r')
                {
                    position++;
                }

                if (position < text.Length && text[position] == '\n')
                {
                    position++;
                }

                line++;
                break;
            }

            if (fields.Count == 1 && fields[0].Length == 0)
            {
                continue;
            }

            if (records.Count == maxRecords)
            {
                error = $"more than {maxRecords} records";
                return false;
            }

            records.Add(new CsvRecord(recordLine, [.. fields]));
        }

        return true;
    }
}
