using System.Globalization;
using System.Text.Json;
using MdvGateway.Gateway.Proxy;

namespace MdvGateway.Gateway.Admin;

/// <summary>
/// The admin API's error answers, all <c>application/problem+json</c>. Each status has one meaning in this API, so the
/// problem <c>type</c> follows from it (<c>urn:mdvgateway:problem:admin:&lt;kind&gt;</c>).
/// </summary>
internal static class AdminProblems
{
    private const string TypePrefix = "urn:mdvgateway:problem:admin:";

    public static Task BadRequest(HttpContext context, string detail)
        => Write(context, StatusCodes.Status400BadRequest, detail);

    public static Task Unauthorized(HttpContext context, string detail)
    {
        context.Response.Headers.WWWAuthenticate = "ApiKey realm=\"mdv-admin\"";
        return Write(context, StatusCodes.Status401Unauthorized, detail);
    }

    public static Task Forbidden(HttpContext context, string role)
        => Write(context, StatusCodes.Status403Forbidden, $"This key does not have the role '{role}'.", writer => writer.WriteString("requiredRole", role));

    public static Task TooManyFailures(HttpContext context, TimeSpan retryAfter)
    {
        var seconds = Math.Max(1, (long)Math.Ceiling(retryAfter.TotalSeconds));
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return Write(context, StatusCodes.Status429TooManyRequests,
            string.Create(CultureInfo.InvariantCulture, $"Too many failed authentications from this address; retry in {seconds} s."),
            writer => writer.WriteNumber("retryAfterSeconds", seconds));
    }

    public static Task StoreUnavailable(HttpContext context, string? detail = null)
    {
        context.Response.Headers.RetryAfter = "5";
        return Write(context, StatusCodes.Status503ServiceUnavailable,
            detail ?? "Redis cannot be reached; bans already known stay enforced. Retry shortly.");
    }

    public static Task Internal(HttpContext context)
        => Write(context, StatusCodes.Status500InternalServerError, "The request failed unexpectedly; the traceId identifies it in the gateway's log.");

    /// <summary>A problem body for a status the framework set without one (unknown path, wrong method, ...).</summary>
    public static Task ForEmptyStatus(HttpContext context)
    {
        var status = context.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status404NotFound => "No admin endpoint has this path; GET /admin/openapi.json lists them.",
            StatusCodes.Status405MethodNotAllowed => "This path does not accept this method; GET /admin/openapi.json lists the methods.",
            _ => "The request could not be processed.",
        };
        return Write(context, status, detail);
    }

    /// <summary>
    /// The admin contract answers every kind of bad input with 400 (DESIGN.md); an oversized body or a wrong media
    /// type keeps its own problem <c>type</c> (<c>too-large</c>, <c>unsupported-media-type</c>) so clients can tell.
    /// </summary>
    public static int WireStatus(int status)
        => status is StatusCodes.Status413PayloadTooLarge or StatusCodes.Status415UnsupportedMediaType ? StatusCodes.Status400BadRequest : status;

    /// <param name="context">The request.</param>
    /// <param name="status">The status sent.</param>
    /// <param name="detail">What went wrong, for the caller.</param>
    /// <param name="extensions">Extra problem members.</param>
    /// <param name="kindOf">The status whose problem type and title to use, when it differs from <paramref name="status"/>.</param>
    public static Task Write(HttpContext context, int status, string detail, Action<Utf8JsonWriter>? extensions = null, int? kindOf = null)
    {
        var (kind, title) = Describe(kindOf ?? status);
        return ProblemResponse.WriteAsync(context, status, TypePrefix + kind, title, detail, extensions);
    }

    private static (string Kind, string Title) Describe(int status) => status switch
    {
        StatusCodes.Status400BadRequest => ("bad-request", "Bad request"),
        StatusCodes.Status401Unauthorized => ("unauthorized", "Unauthorized"),
        StatusCodes.Status403Forbidden => ("forbidden", "Forbidden"),
        StatusCodes.Status404NotFound => ("not-found", "Not found"),
        StatusCodes.Status405MethodNotAllowed => ("method-not-allowed", "Method not allowed"),
        StatusCodes.Status409Conflict => ("allowlisted", "Target is allowlisted"),
        StatusCodes.Status413PayloadTooLarge => ("too-large", "Request body too large"),
        StatusCodes.Status415UnsupportedMediaType => ("unsupported-media-type", "Unsupported media type"),
        StatusCodes.Status429TooManyRequests => ("too-many-failures", "Too many failed authentications"),
        StatusCodes.Status503ServiceUnavailable => ("store-unavailable", "Ban store unavailable"),
        >= 500 => ("internal", "Internal error"),
        _ => ("bad-request", "Bad request"),
    };
}
