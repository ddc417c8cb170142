using System.Globalization;
using MdvGateway.Gateway.Proxy;

namespace MdvGateway.Gateway.RateLimiting;

/// <summary>The HTTP face of a decision: the 429 and 503 answers and the headers on admitted responses.</summary>
internal static class RateLimitResponses
{
    public const string RateLimitedType = "urn:mdvgateway:problem:rate-limited";
    public const string StoreUnavailableType = "urn:mdvgateway:problem:rate-limit-store-unavailable";

    public static Task WriteRejectedAsync(HttpContext context, RateLimitDecision decision)
    {
        var retryAfter = RateLimitHeaders.ToDeltaSeconds(decision.RetryAfter);
        var headers = context.Response.Headers;
        headers.RetryAfter = retryAfter.ToString(CultureInfo.InvariantCulture);
        headers[RateLimitHeaders.PolicyHeader] = decision.Policy.PolicyHeaderValue;
        headers[RateLimitHeaders.RateLimitHeader] = RateLimitHeaders.FormatRemaining(decision.Outcomes);

        var limit = decision.RejectingLimit!;
        var detail = string.Create(
            CultureInfo.InvariantCulture,
            $"Limit '{limit.Name}' of policy '{decision.Policy.Name}' allows {limit.PermitLimit} requests per {limit.WindowSeconds} s; retry after {retryAfter} s.");
        return ProblemResponse.WriteAsync(context, StatusCodes.Status429TooManyRequests, RateLimitedType, "Too many requests", detail, writer =>
        {
            writer.WriteString("policy", decision.Policy.Name);
            writer.WriteNumber("retryAfterSeconds", retryAfter);
        });
    }

    public static Task WriteStoreUnavailableAsync(HttpContext context, RateLimitDecision decision, TimeSpan retryAfter)
    {
        var seconds = RateLimitHeaders.ToDeltaSeconds(retryAfter);
        context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        return ProblemResponse.WriteAsync(
            context,
            StatusCodes.Status503ServiceUnavailable,
            StoreUnavailableType,
            "Rate limiting unavailable",
            "The rate-limit store cannot be reached and this gateway is configured to refuse limited routes until it can.",
            writer =>
            {
                writer.WriteString("policy", decision.Policy.Name);
                writer.WriteNumber("retryAfterSeconds", seconds);
            });
    }

    /// <summary>Sets the headers of an admitted response; called as the response starts, after the upstream's headers.</summary>
    public static void ApplyAdmittedHeaders(HttpResponse response, RateLimitDecision decision)
    {
        var headers = response.Headers;
        headers[RateLimitHeaders.PolicyHeader] = decision.Policy.PolicyHeaderValue;
        if (decision.Outcomes.Length > 0)
        {
            headers[RateLimitHeaders.RateLimitHeader] = RateLimitHeaders.FormatRemaining(decision.Outcomes);
        }
    }
}
