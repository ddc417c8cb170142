using System.Globalization;
using System.Runtime.ExceptionServices;

namespace MdvGateway.Gateway.Admin;

internal sealed partial class BanAdministration
{
    /// <summary>Bans written to Redis concurrently; each is its own atomic script and announcement.</summary>
    private const int ImportBatchSize = 256;

    /// <summary>
    /// <c>POST /admin/bans/import</c>. Every line is validated first; the valid ones are then written with
    /// keep-longer semantics (an import never shortens an existing ban), so importing the same file twice is harmless.
    /// Each ban put in force is audited as it is written, and the import as a whole once it ends, interrupted or not.
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

        var unchanged = 0;
        var issued = 0;
        Exception? failure = null;
        foreach (var batch in bans.Chunk(ImportBatchSize))
        {
            var writes = batch.Select(ban => _store.UpsertAsync(ban, keepLonger: true)).ToArray();
            try
            {
                await Task.WhenAll(writes);
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            // Every write that completed is in force, even in a batch that failed: cached, counted and audited.
            for (var i = 0; i < batch.Length; i++)
            {
                if (!writes[i].IsCompletedSuccessfully)
                {
                    continue;
                }

                if (writes[i].Result)
                {
                    _cache.Upsert(batch[i], rules.Ipv6PrefixLength);
                    _metrics.BanIssued(IpBans.BanOrigins.Imported, 0);
                    _audit.BanImported(caller, batch[i]);
                    issued++;
                }
                else
                {
                    unchanged++;
                }
            }

            if (failure is not null)
            {
                break;
            }
        }

        if (failure is not null)
        {
            var storeFailure = AdminErrorMiddleware.IsStoreFailure(failure);
            _audit.Imported(context, caller, storeFailure ? StatusCodes.Status503ServiceUnavailable : StatusCodes.Status500InternalServerError, format, overrideAllowlist, bans.Count, unchanged, rejected.Count, issued);
            if (!storeFailure)
            {
                ExceptionDispatchInfo.Throw(failure);
            }

            var written = issued + unchanged;
            Log.ImportInterrupted(_logger, caller.Name, written, bans.Count, failure.GetType().Name);
            throw new AdminRequestException(
                StatusCodes.Status503ServiceUnavailable,
                string.Create(CultureInfo.InvariantCulture, $"Redis became unavailable after {written} of {bans.Count} valid lines were written; importing the same file again is safe."));
        }

        _audit.Imported(context, caller, StatusCodes.Status200OK, format, overrideAllowlist, bans.Count, unchanged, rejected.Count, issued);
        Log.Imported(_logger, caller.Name, bans.Count, unchanged, rejected.Count, overrideAllowlist);
        await WriteJsonAsync(context, StatusCodes.Status200OK, new ImportReport(bans.Count, unchanged, rejected), AdminJson.Responses.ImportReport);
    }
}
