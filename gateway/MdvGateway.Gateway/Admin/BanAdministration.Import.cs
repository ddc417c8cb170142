using System.Globalization;

namespace MdvGateway.Gateway.Admin;

internal sealed partial class BanAdministration
{
    /// <summary>Bans written to Redis concurrently; each is its own atomic script and announcement.</summary>
    private const int ImportBatchSize = 256;

    /// <summary>
    /// <c>POST /admin/bans/import</c>. Every line is validated first; the valid ones are then written with
    /// keep-longer semantics (an import never shortens an existing ban), so importing the same file twice is harmless.
    /// </summary>
    public async Task ImportAsync(HttpContext context)
    {
        RequireParameters(context, ImportParameters);
        var overrideAllowlist = false;
        if (BanQuery.Single(context.Request.Query, "overrideAllowlist") is { } flag && !BanInput.TryParseBoolean(flag, out overrideAllowlist))
        {
            throw AdminRequestException.BadRequest($"overrideAllowlist: '{BanInput.Shorten(flag)}' is not true or false");
        }

        var format = AdminRequestBody.RequireFormat(context.Request, allowCsv: true);
        var body = await AdminRequestBody.ReadAsync(context.Request, AdminRequestBody.MaxImportBytes);
        List<ImportCandidate> candidates;
        string error;
        bool parsed;
        if (format == AdminRequestBody.Format.Json)
        {
            using var document = StrictJson.Parse(body);
            parsed = BanImport.TryParseJson(document, out candidates, out error);
        }
        else
        {
            parsed = BanImport.TryParseCsv(AdminRequestBody.DecodeUtf8(body), out candidates, out error);
        }

        if (!parsed)
        {
            throw AdminRequestException.BadRequest(error);
        }

        var settings = _settings.Current;
        var caller = Caller(context);
        await _connection.FirstAttemptAsync(context.RequestAborted);
        var rules = new ImportRules(settings.ClientIp.IPv6PrefixLength, settings.IpBans.Allowlist, overrideAllowlist, await _store.GetTimeAsync(), caller.Name);
        var (bans, rejected) = BanImport.Validate(candidates, rules);

        var written = 0;
        var unchanged = 0;
        try
        {
            foreach (var batch in bans.Chunk(ImportBatchSize))
            {
                var results = await Task.WhenAll(batch.Select(ban => _store.UpsertAsync(ban, keepLonger: true)));
                for (var i = 0; i < batch.Length; i++)
                {
                    if (results[i])
                    {
                        _cache.Upsert(batch[i], rules.Ipv6PrefixLength);
                        _metrics.BanIssued(IpBans.BanOrigins.Imported, 0);
                    }
                    else
                    {
                        unchanged++;
                    }
                }

                written += batch.Length;
            }
        }
        catch (Exception ex) when (AdminErrorMiddleware.IsStoreFailure(ex))
        {
            Log.ImportInterrupted(_logger, caller.Name, written, bans.Count, ex.GetType().Name);
            throw new AdminRequestException(
                StatusCodes.Status503ServiceUnavailable,
                string.Create(CultureInfo.InvariantCulture, $"Redis became unavailable after {written} of {bans.Count} valid lines were written; importing the same file again is safe."));
        }

        Log.Imported(_logger, caller.Name, bans.Count, unchanged, rejected.Count, overrideAllowlist);
        await WriteJsonAsync(context, StatusCodes.Status200OK, new ImportReport(bans.Count, unchanged, rejected), AdminJson.Responses.ImportReport);
    }
}
